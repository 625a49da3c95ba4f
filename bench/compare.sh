#!/usr/bin/env bash
# Peer benchmark over NBD (design/BENCHMARKS.md): one client, fio's nbd engine, against the NBD
# servers a user would pick instead, in one run on identical files:
#   (a) qemu-nbd --cache=none --aio=io_uring serving a raw file,
#   (b) nbdkit's file plugin serving a raw file,
#   (c) `hornbill tgt` exporting a thick lvol on an identical file,
#   (d) `hornbill tgt` exporting a RAID1 of two thick lvols on two more files,
#   (e) the V1 engine: `hornbill controller` over one, and over two, `hornbill replica` processes
#       (head files of the same span, written once beforehand), also over NBD,
# plus fio on the raw file (io_uring, O_DIRECT) as the limit. 4 KiB randread and randwrite at
# QD32 and QD1; prints one table with every row's ratio to qemu-nbd and to raw, V2/V1 ratios and
# the targets of docs/benchmarks.md (met or missed in this run), and appends them to docs/benchmarks.md.
#
# Environment: BENCH_DIR (bench/out), BENCH_FILE_GIB (2), BENCH_SPAN_MIB (1024), BENCH_TIME seconds
# per run (10), BENCH_REPS repetitions (3), BENCH_PORT first of four TCP ports (10809),
# BENCH_NO_RECORD=1 to skip docs/.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-bench/out}
file_gib=${BENCH_FILE_GIB:-2}
span_mib=${BENCH_SPAN_MIB:-1024}
seconds=${BENCH_TIME:-10}
reps=${BENCH_REPS:-3}
port=${BENCH_PORT:-10809}
span=$((span_mib * 1024 * 1024))

missing=()
command -v fio >/dev/null || missing+=(fio)
command -v qemu-nbd >/dev/null || missing+=(qemu-utils)
command -v nbdkit >/dev/null || missing+=(nbdkit)
if ((${#missing[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
swift build -c release --product hornbill >/dev/null
hornbill=.build/release/hornbill
mkdir -p "$dir"
socket="$dir/compare.sock"

for disk in raw lvol leg0 leg1; do
    rm -f "$dir/$disk.img"
    truncate -s "${file_gib}G" "$dir/$disk.img"
    # Allocate every block so no server reads holes.
    fio --name=fill --filename="$dir/$disk.img" --direct=1 --ioengine=io_uring --bs=1M --iodepth=8 --rw=write \
        --size="${file_gib}G" --output=/dev/null
done

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
qemu-nbd --cache=none --aio=io_uring -f raw -t -b 127.0.0.1 -p "$port" -x raw "$dir/raw.img" &
pids+=($!)
nbdkit -f -i 127.0.0.1 -p $((port + 1)) file "$dir/raw.img" &
pids+=($!)
rm -f "$socket"
"$hornbill" tgt -r "$socket" 2>"$dir/compare-tgt.log" &
pids+=($!)
for _ in $(seq 100); do [[ -S "$socket" ]] && break; sleep 0.1; done
rpc() { "$hornbill" rpc -s "$socket" "$@" >/dev/null; }
for disk in lvol leg0 leg1; do
    rpc bdev_aio_create "{\"name\": \"aio-$disk\", \"filename\": \"$dir/$disk.img\", \"block_size\": 4096}"
    # clear_method none keeps the blocks the fill allocated: on a file, an unmapped range is a hole
    # whose first write allocates, a cost the peers' files (and a block disk) do not have.
    rpc bdev_lvol_create_lvstore "{\"bdev_name\": \"aio-$disk\", \"lvs_name\": \"$disk\", \"cluster_sz\": 1048576, \"clear_method\": \"none\"}"
    # Thick: every cluster is allocated, so I/O reaches the file.
    rpc bdev_lvol_create "{\"lvs_name\": \"$disk\", \"lvol_name\": \"v\", \"size_in_mib\": $span_mib}"
done
rpc bdev_raid_create '{"name": "raid", "raid_level": "raid1", "base_bdevs": ["leg0/v", "leg1/v"]}'
rpc nbd_export_create "{\"name\": \"lvol\", \"bdev_name\": \"lvol/v\", \"listen_address\": {\"traddr\": \"127.0.0.1\", \"trsvcid\": \"$((port + 2))\"}}"
rpc nbd_export_create "{\"name\": \"raid\", \"bdev_name\": \"raid\", \"listen_address\": {\"traddr\": \"127.0.0.1\", \"trsvcid\": \"$((port + 2))\"}}"
# A thick lvol's clusters are zeroed when it is made (on a file: unwritten extents, read without
# touching the disk). Write the lvol and the RAID once, as the peers' files were, so every I/O
# below reaches written blocks.
for export in lvol raid; do
    fio --name=fill --ioengine=nbd --uri="nbd://127.0.0.1:$((port + 2))/$export" --bs=1M --iodepth=8 --rw=write \
        --size="$span" --output=/dev/null
done

# The V1 engine: replica processes (head files written once, so reads reach the disk) and controllers.
start_replica() {
    "$hornbill" replica "$dir/v1/$1" --size "$span" --listen "127.0.0.1:$2" 2>>"$dir/compare-v1.log" &
    pids+=($!)
}
rm -rf "$dir/v1"
v1port=$((port + 10))
for name in a b c; do
    start_replica "$name" "$v1port"
    # Stop it once it has made the directory (volume.meta is written last).
    for _ in $(seq 100); do [[ -f "$dir/v1/$name/volume.meta" ]] && break; sleep 0.1; done
    sleep 0.2
    kill "${pids[-1]}"
    wait "${pids[-1]}" 2>/dev/null || true
    fio --name=fill --filename="$dir/v1/$name/volume-head-000.img" --direct=1 --ioengine=io_uring --bs=1M --iodepth=8 \
        --rw=write --size="$span" --output=/dev/null
done
start_replica a $((v1port + 1))
start_replica b $((v1port + 2))
start_replica c $((v1port + 3))
sleep 0.5
"$hornbill" controller v1 --size "$span" --replica "tcp://127.0.0.1:$((v1port + 1))" --frontend nbd \
    --listen "127.0.0.1:$((port + 3))" 2>>"$dir/compare-v1.log" &
pids+=($!)
"$hornbill" controller v1 --size "$span" --replica "tcp://127.0.0.1:$((v1port + 2))" \
    --replica "tcp://127.0.0.1:$((v1port + 3))" --frontend nbd --listen "127.0.0.1:$((port + 4))" 2>>"$dir/compare-v1.log" &
pids+=($!)
sleep 1

peers=(
    "qemu-nbd|nbd://127.0.0.1:$port/raw"
    "nbdkit file|nbd://127.0.0.1:$((port + 1))/"
    "hornbill lvol|nbd://127.0.0.1:$((port + 2))/lvol"
    "hornbill RAID1|nbd://127.0.0.1:$((port + 2))/raid"
    "hornbill V1 1 replica|nbd://127.0.0.1:$((port + 3))/v1"
    "hornbill V1 2 replicas|nbd://127.0.0.1:$((port + 4))/v1"
)
results="$dir/compare.jsonl"
: >"$results"
record() { python3 bench/row.py fio "$1" "$2" "$3" "$dir/fio.json" >>"$results"; }
for workload in "randread 32" "randwrite 32" "randread 1" "randwrite 1"; do
    set -- $workload
    rw=$1 depth=$2
    for rep in $(seq "$reps"); do
        fio --name=raw --filename="$dir/raw.img" --direct=1 --ioengine=io_uring --bs=4k --iodepth="$depth" \
            --rw="$rw" --size="$span" --time_based --runtime="$seconds" --randrepeat=0 --norandommap \
            --output-format=json --output="$dir/fio.json"
        record "raw file" "$rw" "$depth"
        for peer in "${peers[@]}"; do
            fio --name=nbd --ioengine=nbd --uri="${peer#*|}" --bs=4k --iodepth="$depth" --rw="$rw" --size="$span" \
                --time_based --runtime="$seconds" --randrepeat=0 --norandommap --output-format=json --output="$dir/fio.json"
            record "${peer%%|*}" "$rw" "$depth"
        done
    done
done

table=$(python3 - "$results" "$reps" "$seconds" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def median(peer, rw, qd, key):
    return statistics.median(r[key] for r in rows if r["peer"] == peer and r["rw"] == rw and r["qd"] == qd)
peers = ["raw file", "qemu-nbd", "nbdkit file", "hornbill lvol", "hornbill RAID1", "hornbill V1 1 replica", "hornbill V1 2 replicas"]
print("| workload | peer | IOPS | ÷ qemu-nbd | ÷ raw | mean µs | ÷ qemu-nbd |")
print("|---|---|---|---|---|---|---|")
for rw, qd in [("randread", 32), ("randwrite", 32), ("randread", 1), ("randwrite", 1)]:
    base_iops, base_us = median("qemu-nbd", rw, qd, "iops"), median("qemu-nbd", rw, qd, "mean_us")
    raw = median("raw file", rw, qd, "iops")
    for peer in peers:
        iops, us = median(peer, rw, qd, "iops"), median(peer, rw, qd, "mean_us")
        print(f"| 4 KiB {rw} QD{qd} | {peer} | {iops:,.0f} | {iops/base_iops:.2f} | {iops/raw:.2f} | {us:.1f} | {us/base_us:.2f} |")
print()
print("| workload | V2 lvol ÷ V1 1 replica (IOPS) | V2 RAID1 ÷ V1 2 replicas (IOPS) | V1 1 replica ÷ nbdkit |")
print("|---|---|---|---|")
for rw, qd in [("randread", 32), ("randwrite", 32), ("randread", 1), ("randwrite", 1)]:
    v1, v1r2 = median("hornbill V1 1 replica", rw, qd, "iops"), median("hornbill V1 2 replicas", rw, qd, "iops")
    print(f"| 4 KiB {rw} QD{qd} | {median('hornbill lvol', rw, qd, 'iops')/v1:.2f} | "
          f"{median('hornbill RAID1', rw, qd, 'iops')/v1r2:.2f} | {v1/median('nbdkit file', rw, qd, 'iops'):.2f} |")
print()
# The targets (docs/benchmarks.md), each judged on the medians of this run.
def ratio(a, b, rw, qd=32):
    return median(a, rw, qd, "iops") / median(b, rw, qd, "iops")
targets = []
for rw in ("randread", "randwrite"):
    to_qemu, to_raw = ratio("hornbill lvol", "qemu-nbd", rw), ratio("hornbill lvol", "raw file", rw)
    targets.append((f"V2 lvol {rw} QD32: ≥ 1.3× qemu-nbd or ≥ 0.9× raw", f"{to_qemu:.2f}× qemu-nbd, {to_raw:.2f}× raw",
                    to_qemu >= 1.3 or to_raw >= 0.9))
for rw in ("randread", "randwrite"):
    value = ratio("hornbill V1 1 replica", "qemu-nbd", rw)
    targets.append((f"V1 1 replica {rw} QD32: ≥ 0.75× qemu-nbd", f"{value:.2f}", value >= 0.75))
value = ratio("hornbill V1 2 replicas", "hornbill V1 1 replica", "randwrite")
targets.append(("V1 2 replicas randwrite QD32: ≥ 0.85× V1 1 replica", f"{value:.2f}", value >= 0.85))
value = ratio("hornbill lvol", "hornbill V1 1 replica", "randread")
targets.append(("V2 lvol ÷ V1 1 replica randread QD32: ≥ 1.5", f"{value:.2f}", value >= 1.5))
print("| target | this run | |")
print("|---|---|---|")
for name, value, met in targets:
    print(f"| {name} | {value} | {'met' if met else 'missed'} |")
print(f"\nMedian of {sys.argv[2]} runs of {sys.argv[3]} s each; client: fio's nbd engine (libnbd), one connection.")
PY
)
echo "$table"

if [[ "${BENCH_NO_RECORD:-0}" != 1 ]]; then
    {
        echo
        echo "### NBD peers — $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), $(df -T "$dir/raw.img" | awk 'NR==2{print $2}'), $(fio --version), $(qemu-nbd --version | head -1), $(nbdkit --version)"
        echo
        echo "$table"
    } >>docs/benchmarks.md
fi
"$hornbill" rpc -s "$socket" spdk_kill_instance '{"sig_name": "SIGTERM"}' >/dev/null || true
rm -f "$dir"/{raw,lvol,leg0,leg1}.img
rm -rf "$dir/v1"
