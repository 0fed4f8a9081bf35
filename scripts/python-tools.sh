#!/usr/bin/env bash
# Makes the Python tools the tests use (the OpenAPI validator and schemathesis, pinned)
# in a virtual environment under target/, and prints its bin directory. Installs from
# PyPI once; later runs reuse it. Used by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/python-tools
stamp="$venv/.pinned-2"
if [ ! -f "$stamp" ]; then
  echo "python-tools.sh: installing the OpenAPI validator and schemathesis into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
    "openapi-spec-validator==0.9.0" "schemathesis==4.32.5" >&2
  touch "$stamp"
fi
echo "$PWD/$venv/bin"
