#!/usr/bin/env bash
# Runs Hornbill's whole test suite: installs what the tests need, builds every product (the tests
# start the built executables), then runs the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: real NBD clients (qemu-img, nbdinfo, nbdcopy, fio's nbd engine).
needed=(fio qemu-utils libnbd-bin nbdkit)
missing=()
for package in "${needed[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# The Linux guest that checks the NVMe/TCP target with the kernel's initiator and nvme-cli
# (scripts/linux-guest/): QEMU, busybox, nvme-cli, and the tools that build its initramfs.
guest_needed=(qemu-system-x86 busybox-static nvme-cli kmod cpio)
missing=()
for package in "${guest_needed[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# SPDK's own rpc.py (PyPI's spdk package) checks that `hornbill tgt` speaks SPDK's JSON-RPC.
if ! python3 -c 'import spdk.spdk_rpc' >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check spdk==26.9
fi

swift build --build-tests
swift test --skip-build "$@"
