#!/usr/bin/env bash
# Runs Hornbill's whole test suite: installs what the tests need, builds every product (the tests
# start the built executables), then runs the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# install [apt-get flags…] -- PACKAGE…: installs the packages that are missing.
install() {
    local flags=() missing=()
    while [[ $1 != -- ]]; do flags+=("$1"); shift; done
    shift
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if ((${#missing[@]})); then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${flags[@]}" "${missing[@]}"
    fi
}

# SQLite's headers and library, which GRDB (the manager's store) builds against.
install -- libsqlite3-dev

# Debian packages the tests use: real NBD clients (qemu-img, nbdinfo, nbdcopy, fio's nbd engine).
install -- fio qemu-utils libnbd-bin nbdkit

# The Linux guest that checks the NVMe/TCP target with the kernel's initiator and nvme-cli
# (scripts/linux-guest/): QEMU, busybox, nvme-cli, and the tools that build its initramfs.
install --no-install-recommends -- qemu-system-x86 busybox-static nvme-cli kmod cpio

# SPDK's own rpc.py (PyPI's spdk package) checks that `hornbill tgt` speaks SPDK's JSON-RPC.
if ! python3 -c 'import spdk.spdk_rpc' >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check spdk==26.9
fi

# An independent gRPC client (grpcio and its reflection and health packages) checks the instance
# manager's servers, with stubs grpcio-tools compiles from proto/ in the test.
if ! python3 -c 'import grpc, grpc_reflection, grpc_health, grpc_tools' >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check \
        grpcio==1.85.4 grpcio-reflection==1.85.1 grpcio-health-checking==1.85.1 grpcio-tools==1.85.4
fi

# Longhorn's Python client checks the manager's REST API the way it uses it: `requests` for the
# HTTP calls, `websocket-client` for the streams.
if ! python3 -c 'import requests, websocket' >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check requests==2.34.2 websocket-client==1.9.2
fi

swift build --build-tests
if (($#)); then
    exec swift test --skip-build "$@"
fi
# The control-plane suites run apart from the data-plane ones: those drive their processes with
# blocking waits, which on a 2-core machine hold the cooperative pool's threads for seconds at a
# time, and the control plane's actors (on that same pool) would miss their tests' deadlines.
# Control-plane test modules: InstanceManager*Tests, Manager*Tests, NodeServerTests (the patterns
# are anchored on the module: NodeServerTests has suites named Manager…Tests too). The
# NodeServerTests, which wait on real servers through the CLI, run apart from the in-process ones
# for the same reason.
in_process='^(Instance)?Manager[A-Za-z]*Tests\.'
servers='^NodeServerTests\.'
swift test --skip-build --skip "$in_process" --skip "$servers"
swift test --skip-build --filter "$in_process"
swift test --skip-build --filter "$servers"
