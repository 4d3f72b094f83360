#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: venv + pinned packages, the real Prometheus and
# Alertmanager binaries (Debian packages) the config and lab tests use, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x venv/bin/python ]; then
  python3 -m venv venv
fi
venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null || ! command -v amtool >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = none ] || ! command -v apt-get >/dev/null; then
    echo "note: cannot install Debian prometheus/prometheus-alertmanager here; lab and promtool tests will be skipped" >&2
  else
    echo "installing Debian packages prometheus prometheus-alertmanager ..." >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null
  fi
fi

exec venv/bin/python -m pytest "$@"
