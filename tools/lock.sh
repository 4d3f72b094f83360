#!/usr/bin/env bash
# Regenerates the hash-pinned locks after a change to requirements.txt or requirements-test.txt:
# requirements.lock (run time) and requirements-test.lock (run time + tests), every transitive
# package pinned with the hashes of all its published files, for Python 3.11 (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/pip" install --quiet pip-tools==7.4.1
for name in requirements requirements-test; do
  "$tools/bin/pip-compile" --quiet --no-header --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links --output-file "$name.lock" "$name.txt"
done
