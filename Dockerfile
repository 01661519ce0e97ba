# syntax=docker/dockerfile:1
# assay serve in a container.
#
#   docker build -t assay .
#   docker run --rm --privileged --cgroupns=host -p 127.0.0.1:8080:8080 \
#       -v assay-jobs:/var/lib/assay assay
#
# THE SANDBOX CANNOT ISOLATE INSIDE AN UNPRIVILEGED CONTAINER. Every run gets its own pid, mount,
# network, ipc and uts namespaces, a private tmpfs root, its own cgroups and an unprivileged uid;
# creating those needs root with CAP_SYS_ADMIN (mount, clone flags), no default seccomp profile
# blocking mount/unshare, and a writable cgroup v2 hierarchy with the memory, pids and cpu
# controllers. Hence the flags:
#   --privileged        capabilities, no seccomp/AppArmor profile in the way, writable /sys/fs/cgroup
#   --cgroupns=host     the host's cgroup tree, where assay creates one subtree per run
# Without them `assay serve` refuses to start and names the missing layer (it never falls back
# silently; `--allow-weaker-isolation` runs with rlimits instead of missing cgroup controllers
# and prints a warning per gap). The daemon then confines each program itself; treat the
# container as the daemon's packaging, not as an extra isolation layer.
#
# Inside, the server binds 0.0.0.0 (needed for -p), so it requires a bearer token: mount one and
# pass it, e.g. -v $PWD/token:/run/secrets/assay-token:ro (openssl rand -hex 32 > token).
# Publish the port on the host's loopback only (-p 127.0.0.1:8080:8080) unless the token is set.

# ---- build ----
FROM swift:6.3.1-bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libseccomp-dev libcap-dev libopenblas-dev pkg-config libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest names the test targets too, so their folders must exist for it to load.
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product assay \
    && swift build -c release --product assay-box-init \
    && mkdir -p /out/bin \
    && cp "$(swift build -c release --show-bin-path)/assay" "$(swift build -c release --show-bin-path)/assay-box-init" /out/bin/

# ---- runtime ----
FROM debian:bookworm-slim
# What scripts/install-deps.sh installs for grading: python3, python3-numpy (the grading
# preamble), python3-sortedcontainers (imported by some LeetCode reference solutions) and g++
# are what the python3 and cpp profiles run inside the boxes (the -dev packages and
# python3-venv there are for building and testing only); libseccomp/libcap for the sandbox
# shim, libsqlite3 for the job store, libopenblas for the TensorEngine linked into the same binary.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-numpy python3-sortedcontainers g++ libseccomp2 libcap2 libsqlite3-0 libopenblas0 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/bin/assay /out/bin/assay-box-init /opt/assay/bin/
COPY sandbox-profiles /opt/assay/sandbox-profiles
ENV ASSAY_PROFILES=/opt/assay/sandbox-profiles \
    ASSAY_BOX_INIT=/opt/assay/bin/assay-box-init \
    PATH=/opt/assay/bin:$PATH
VOLUME /var/lib/assay
EXPOSE 8080
STOPSIGNAL SIGTERM
# --workers defaults to the container's visible cores; add --data /data with a mounted data set.
ENTRYPOINT ["assay", "serve", "--host", "0.0.0.0", "--port", "8080", "--db", "/var/lib/assay/jobs.sqlite", \
            "--token-file", "/run/secrets/assay-token"]
