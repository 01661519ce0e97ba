#!/bin/sh
# Creates (once) a venv with schemathesis from PyPI for the OpenAPI conformance test
# (Tests/GradingServerTests/SchemathesisTests.swift). Prints the venv's python on success;
# exits nonzero (the test then skips, or fails under CI=true) otherwise.
set -e
VENV="${ASSAY_SCHEMATHESIS_VENV:-/tmp/assay-schemathesis-venv}"
if ! "$VENV/bin/schemathesis" --version >/dev/null 2>&1; then
    rm -rf "$VENV"
    /usr/bin/python3 -m venv "$VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis>=4.3,<5" >&2
fi
echo "$VENV/bin/python"
