#!/bin/sh
# Creates (once) a venv with the real `sandbox-fusion` client from PyPI for the live client
# tests. Prints the venv's python on success; exits nonzero (the tests then skip) otherwise.
set -e
VENV="${ASSAY_SF_VENV:-/tmp/assay-sf-venv}"
if ! "$VENV/bin/python" -c "import sandbox_fusion" >/dev/null 2>&1; then
    rm -rf "$VENV"
    /usr/bin/python3 -m venv "$VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "sandbox-fusion>=0.3,<0.4" >&2
fi
echo "$VENV/bin/python"
