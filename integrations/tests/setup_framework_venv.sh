#!/bin/sh
# Creates (once) a venv with verl and TRL from PyPI (and the torch they need, about 6 GB, a few
# minutes) for the framework tests, and installs this checkout's integrations into it as the
# README says (`pip install ./integrations`) on every run, so the tests see the current code.
# Prints the venv's python on success; exits nonzero (the tests then skip, or fail under CI).
set -e
VENV="${ASSAY_FW_VENV:-/tmp/assay-fw-venv}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
if ! "$VENV/bin/python" -c "import verl, trl, torch" >/dev/null 2>&1; then
    rm -rf "$VENV"
    /usr/bin/python3 -m venv "$VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "verl==0.9.1" "trl==1.16.0" "transformers==5.10.4" "torch==2.15.0" >&2
fi
# Built from a copy, so the build leaves nothing in the checkout.
SRC="$(mktemp -d)"
trap 'rm -rf "$SRC"' EXIT
cp -r "$HERE" "$SRC/integrations"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --force-reinstall "$SRC/integrations" >&2
echo "$VENV/bin/python"
