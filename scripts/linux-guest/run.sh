#!/usr/bin/env bash
# Boots the guest built by build.sh and runs its NVMe/TCP check against a target listening on this
# machine's loopback. QEMU's user-mode network maps the guest's 10.0.2.2 to the host's 127.0.0.1;
# the guest has no route anywhere else. QEMU emulates the CPU (TCG): this machine's KVM is nested and
# does not boot a guest kernel reliably, and the check needs no speed.
#
#   scripts/linux-guest/run.sh GUESTDIR PORT SUBSYSTEM_NQN HOST_NQN PATTERN_OFFSET [MODE]
#
# MODE is the guest's check: "full" (the default) or "pattern" (nvme-check.sh says what each does).
# Prints the guest's console; exits 0 only if the guest printed "nvme-check: PASS".
set -euo pipefail
dir="${1:?usage: run.sh GUESTDIR PORT NQN HOSTNQN PATTERN_OFFSET}"
port="$2" nqn="$3" hostnqn="$4" offset="$5" mode="${6:-full}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
timeout 600 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -nographic -no-reboot -nodefaults \
    -serial stdio -monitor none \
    -kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" \
    -append "console=ttyS0 quiet panic=-1 hornbill.port=$port hornbill.nqn=$nqn hornbill.hostnqn=$hostnqn hornbill.pattern_offset=$offset hornbill.mode=$mode" \
    -netdev user,id=net0 -device virtio-net-pci,netdev=net0,romfile= </dev/null | tee "$log"
grep -q '^nvme-check: PASS' "$log"
