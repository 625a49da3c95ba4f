#!/bin/sh
# Runs in the Linux guest: drives Hornbill's NVMe/TCP target at 10.0.2.2 with the kernel's nvme-tcp
# initiator and nvme-cli. Arguments are the kernel command line; it reads hornbill.port,
# hornbill.nqn (the subsystem, which must allow hornbill.hostnqn and no other host),
# hornbill.pattern_offset (where a 1 MiB pattern is written for the host to check) and
# hornbill.mode: "full" (the default: every check below) or "pattern" (a volume's endpoint, whose
# subsystem allows any host: connect, write the pattern, read it back, flush, disconnect).
# Prints "check ok: STEP" or "check FAILED: STEP" per step and "nvme-check: PASS" or "FAIL" at the end.

for word in "$@"; do
    case "$word" in
        hornbill.port=*) port="${word#*=}" ;;
        hornbill.nqn=*) nqn="${word#*=}" ;;
        hornbill.hostnqn=*) hostnqn="${word#*=}" ;;
        hornbill.pattern_offset=*) pattern_offset="${word#*=}" ;;
        hornbill.mode=*) mode="${word#*=}" ;;
    esac
done
address=10.0.2.2
failures=0

ok() { echo "check ok: $1"; }
failed() { echo "check FAILED: $1"; failures=$((failures + 1)); }
# step NAME COMMAND...: runs the command, shows its output, and records the outcome.
step() {
    name="$1"; shift
    if output="$("$@" 2>&1)"; then ok "$name"; else failed "$name (exit $?)"; fi
    echo "$output" | sed 's/^/    /'
}
expect_in_output() {
    if echo "$output" | grep -q -- "$1"; then ok "$2"; else failed "$2: '$1' not in the output"; fi
}
wait_for_namespace() {
    for _ in $(seq 1 100); do
        [ -b /dev/nvme0n1 ] && return 0
        sleep 0.1
    done
    return 1
}
# The 1 MiB pattern the host checks: the text "hornbill-guest" and a line number, repeated.
pattern() { seq 1 100000 | sed 's/^/hornbill-guest /' | head -c 1048576; }
finish() {
    if [ "$failures" -eq 0 ]; then echo "nvme-check: PASS"; else echo "nvme-check: FAIL ($failures failed)"; fi
    exit 0
}

if [ "${mode:-full}" = pattern ]; then
    step "connect" nvme connect -t tcp -a "$address" -s "$port" -n "$nqn" -q "$hostnqn"
    if wait_for_namespace; then
        ok "namespace /dev/nvme0n1 appears"
        pattern >/tmp/pattern
        step "write pattern" dd if=/tmp/pattern of=/dev/nvme0n1 bs=65536 seek=$((pattern_offset / 65536)) oflag=direct conv=fsync
        step "flush" nvme flush /dev/nvme0n1 -n 1
        dd if=/dev/nvme0n1 of=/tmp/readback bs=65536 skip=$((pattern_offset / 65536)) count=16 iflag=direct 2>/dev/null
        if cmp /tmp/pattern /tmp/readback; then ok "pattern reads back"; else failed "pattern reads back"; fi
    else
        failed "namespace /dev/nvme0n1 appears"
    fi
    step "disconnect" nvme disconnect -n "$nqn"
    expect_in_output "disconnected 1 controller" "disconnect reports one controller"
    finish
elif [ "${mode:-full}" != full ]; then
    failed "unknown hornbill.mode $mode"
    finish
fi

step "discover" nvme discover -t tcp -a "$address" -s "$port" -q "$hostnqn"
expect_in_output "subnqn: *$nqn" "discovery log names the subsystem"
expect_in_output "trsvcid: *$port" "discovery log gives the subsystem's port"

# A host the subsystem does not allow is refused at Connect, and the kernel says why.
if nvme connect -t tcp -a "$address" -s "$port" -n "$nqn" -q nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000dead >/dev/null 2>&1; then
    failed "a host that is not allowed is refused"
    nvme disconnect -n "$nqn" >/dev/null 2>&1
elif dmesg | grep -q "Connect for subsystem $nqn is not allowed"; then
    ok "a host that is not allowed is refused"
else
    failed "a host that is not allowed is refused: the kernel did not log an invalid-host Connect"
    dmesg | tail -5 | sed 's/^/    /'
fi

for digests in none header-and-data; do
    if [ "$digests" = none ]; then flags=""; else flags="--hdr-digest --data-digest"; fi
    step "connect ($digests digests)" nvme connect -t tcp -a "$address" -s "$port" -n "$nqn" -q "$hostnqn" -i 2 $flags
    if ! wait_for_namespace; then
        failed "namespace /dev/nvme0n1 appears ($digests digests)"
        continue
    fi
    ok "namespace /dev/nvme0n1 appears ($digests digests)"
    step "nvme list" nvme list
    expect_in_output "/dev/nvme0n1" "nvme list shows the namespace"
    step "id-ctrl" nvme id-ctrl /dev/nvme0
    expect_in_output "subnqn *: *$nqn" "id-ctrl reports the subsystem NQN"
    step "id-ns" nvme id-ns /dev/nvme0n1
    step "list-subsys" nvme list-subsys /dev/nvme0n1
    expect_in_output "tcp traddr=$address,trsvcid=$port" "list-subsys shows the TCP path"

    # Random writes of 4 KiB to 256 KiB (larger ones go by R2T), read back and verified.
    step "fio randwrite + crc32c verify" fio --name=check --filename=/dev/nvme0n1 --ioengine=libaio --direct=1 \
        --rw=randwrite --bsrange=4k-256k --iodepth=16 --size=24M --verify=crc32c --verify_fatal=1 --do_verify=1 \
        --numjobs=1 --group_reporting
    expect_in_output "err= 0" "fio reports no errors"

    step "flush" nvme flush /dev/nvme0n1 -n 1
    # Blocks 8 to 15 (the count is zero-based), which fio has just filled.
    step "write-zeroes" nvme write-zeroes /dev/nvme0n1 -n 1 -s 8 -c 7
    if [ "$(dd if=/dev/nvme0n1 bs=4096 skip=8 count=8 iflag=direct 2>/dev/null | tr -d '\0' | wc -c)" -eq 0 ]; then
        ok "write-zeroes reads back as zeros"
    else
        failed "write-zeroes reads back as zeros"
    fi
    step "discard (dataset management)" blkdiscard -o 1048576 -l 1048576 /dev/nvme0n1

    # The pattern goes to the target, survives a disconnect, and reads back after reconnecting.
    pattern >/tmp/pattern
    step "write pattern" dd if=/tmp/pattern of=/dev/nvme0n1 bs=65536 seek=$((pattern_offset / 65536)) oflag=direct conv=fsync
    step "disconnect" nvme disconnect -n "$nqn"
    expect_in_output "disconnected 1 controller" "disconnect reports one controller"
    [ -e /dev/nvme0n1 ] && failed "namespace gone after disconnect" || ok "namespace gone after disconnect"

    step "reconnect" nvme connect -t tcp -a "$address" -s "$port" -n "$nqn" -q "$hostnqn" $flags
    wait_for_namespace || failed "namespace reappears"
    dd if=/dev/nvme0n1 of=/tmp/readback bs=65536 skip=$((pattern_offset / 65536)) count=16 iflag=direct 2>/dev/null
    if cmp /tmp/pattern /tmp/readback; then ok "pattern reads back after reconnect"; else failed "pattern reads back after reconnect"; fi
    step "disconnect again" nvme disconnect -n "$nqn"
done

finish
