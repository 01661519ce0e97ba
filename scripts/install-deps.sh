#!/usr/bin/env bash
# Installs the Debian packages assay needs to build, test and run (as root).
#   libseccomp-dev libcap-dev  the sandbox's C shim
#   g++ python3 python3-numpy  the cpp and python3 profiles (numpy for the grading preamble)
#   python3-sortedcontainers   imported by some LeetCode reference solutions
#   libopenblas-dev pkg-config the TensorEngine's matmuls
#   libsqlite3-dev             the daemon's job store
#   python3-venv               the Python client tests: integrations/tests/setup_venv.sh makes a venv
#                              with the sandbox-fusion client from PyPI (CI fails without it)
#   chromium                   headless, renders `assay report`'s page in ReportBrowserTests (CI fails without it)
#   nginx-light                the load balancer of ScaleOutTests (two `assay serve` behind it; CI fails without it)
set -euo pipefail
packages=(libseccomp-dev libcap-dev g++ python3 python3-numpy python3-sortedcontainers libopenblas-dev pkg-config libsqlite3-dev python3-venv chromium nginx-light)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
