#!/usr/bin/env bash
# Benchmark of the network data path (design/BENCHMARKS.md): in one run, on the same blocks of the
# same backing file, fio on the raw file against `hornbill perf` over NVMe/TCP (loopback) to a
# `hornbill tgt` exporting a thick lvol on that file; also a malloc bdev (the protocol's cost
# alone) and a RAID1 of two lvols on two more files. Client and server share this machine's cores. Reports IOPS ratios to
# raw, the mean latency the network path adds at QD1, and the server's CPU seconds per million
# I/Os (from /proc/PID/stat); also fio on the raw file with the other core busy, which is what the
# disk gives while client and target both run. Prints a table and appends it to docs/benchmarks.md.
#
# Environment: BENCH_DIR (bench/out), BENCH_FILE_GIB (2), BENCH_SPAN_MIB (1024), BENCH_TIME seconds
# per run (10), BENCH_REPS repetitions (3), BENCH_PORT (4420), BENCH_NO_RECORD=1 to skip docs/.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-bench/out}
file_gib=${BENCH_FILE_GIB:-2}
span_mib=${BENCH_SPAN_MIB:-1024}
seconds=${BENCH_TIME:-10}
reps=${BENCH_REPS:-3}
port=${BENCH_PORT:-4420}
span=$((span_mib * 1024 * 1024))

if ! command -v fio >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio
fi
swift build -c release --product hornbill >/dev/null
hornbill=.build/release/hornbill
mkdir -p "$dir"
socket="$dir/tgt.sock"

for disk in disk0 disk1 disk2; do
    rm -f "$dir/$disk.img"
    truncate -s "${file_gib}G" "$dir/$disk.img"
    # Allocate every block so neither side reads holes.
    fio --name=fill --filename="$dir/$disk.img" --direct=1 --ioengine=io_uring --bs=1M --iodepth=8 --rw=write \
        --size="${file_gib}G" --output=/dev/null
done

rm -f "$socket"
"$hornbill" tgt -r "$socket" 2>"$dir/tgt.log" &
tgt=$!
trap 'kill $tgt 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -S "$socket" ]] && break; sleep 0.1; done
rpc() { "$hornbill" rpc -s "$socket" "$@" >/dev/null; }
listen() {
    rpc nvmf_create_subsystem "{\"nqn\": \"$1\", \"allow_any_host\": true}"
    rpc nvmf_subsystem_add_ns "{\"nqn\": \"$1\", \"namespace\": {\"bdev_name\": \"$2\"}}"
    rpc nvmf_subsystem_add_listener "{\"nqn\": \"$1\", \"listen_address\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"$port\"}}"
}
rpc nvmf_create_transport '{"trtype": "tcp"}'
for index in 0 1 2; do
    rpc bdev_aio_create "{\"name\": \"aio$index\", \"filename\": \"$dir/disk$index.img\", \"block_size\": 4096}"
    # clear_method none keeps the blocks the fill allocated: on a file, an unmapped range is a hole
    # whose first write allocates, a cost the raw file (and a block disk) does not have.
    rpc bdev_lvol_create_lvstore "{\"bdev_name\": \"aio$index\", \"lvs_name\": \"lvs$index\", \"cluster_sz\": 1048576, \"clear_method\": \"none\"}"
    # Thick: every cluster is allocated, so reads and writes reach the file.
    rpc bdev_lvol_create "{\"lvs_name\": \"lvs$index\", \"lvol_name\": \"v\", \"size_in_mib\": $span_mib}"
done
rpc bdev_malloc_create "{\"name\": \"malloc0\", \"num_blocks\": $((span / 4096)), \"block_size\": 4096}"
rpc bdev_raid_create '{"name": "raid0", "raid_level": "raid1", "base_bdevs": ["lvs1/v", "lvs2/v"]}'
# A thick lvol's clusters are zeroed when it is made (on a file: unwritten extents, read without
# touching the disk). Write the lvol and the RAID once through a passing NBD export (before
# NVMe-oF claims them), so every I/O below reaches written blocks, as fio's on the raw file does.
for bdev in lvs0/v raid0; do
    rpc nbd_export_create "{\"name\": \"fill\", \"bdev_name\": \"$bdev\", \"listen_address\": {\"traddr\": \"127.0.0.1\", \"trsvcid\": \"$((port + 1))\"}}"
    fio --name=fill --ioengine=nbd --uri="nbd://127.0.0.1:$((port + 1))/fill" --bs=1M --iodepth=8 --rw=write \
        --size="$span" --output=/dev/null
    rpc nbd_export_delete '{"name": "fill"}'
done
listen nqn.2023-01.io.hornbill:lvol lvs0/v
listen nqn.2023-01.io.hornbill:malloc malloc0
listen nqn.2023-01.io.hornbill:raid1 raid0
# fio's raw peer uses the same blocks of disk0.img as the lvol: a thick lvol's clusters follow the
# lvstore's metadata in order.
data_offset=$("$hornbill" rpc -s "$socket" bdev_lvol_get_lvstores '{"lvs_name": "lvs0"}' | python3 -c '
import json, sys
store = json.load(sys.stdin)[0]
print(('"$file_gib"' * 1024 * 1024 * 1024 // store["cluster_size"] - store["total_data_clusters"]) * store["cluster_size"])')

cpu_ticks() { awk '{print $14 + $15}' "/proc/$tgt/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# fio on the lvol's blocks of the raw file, recorded as PEER; more arguments prefix the command.
raw_fio() {
    local peer=$1
    shift
    "$@" fio --name=raw --filename="$dir/disk0.img" --offset="$data_offset" --direct=1 --ioengine=io_uring --bs=4k \
        --iodepth="$depth" --rw="$rw" --size="$span" --time_based --runtime="$seconds" --randrepeat=0 --norandommap \
        --output-format=json --output="$dir/fio.json"
    python3 bench/row.py fio "$peer" "$rw" "$depth" "$dir/fio.json" >>"$results"
}

results="$dir/nvmf.jsonl"
: >"$results"
for workload in "randread 32" "randwrite 32" "randread 1" "randwrite 1"; do
    set -- $workload
    rw=$1 depth=$2
    for rep in $(seq "$reps"); do
        raw_fio "fio raw file"
        # The same fio with the machine's other core kept busy: NVMe/TCP loopback needs both cores
        # (client and target), and on a VM whose disk is emulated on the host's cores a busy vCPU
        # slows the disk itself. This row shows what the disk gives under that condition.
        if (($(nproc) >= 2)); then
            taskset -c 0 bash -c 'while :; do :; done' &
            busy=$!
            raw_fio "fio raw busy" taskset -c 1
            kill "$busy"
            wait "$busy" 2>/dev/null || true
        fi
        for target in lvol malloc raid1; do
            before=$(cpu_ticks)
            "$hornbill" perf -d "nvmf://127.0.0.1:$port/nqn.2023-01.io.hornbill:$target" -w "$rw" -o 4096 \
                -q "$depth" -t "$seconds" --json >"$dir/perf.json"
            after=$(cpu_ticks)
            python3 bench/row.py perf "nvmf $target" "$rw" "$depth" "$dir/perf.json" \
                "$(awk "BEGIN { print ($after - $before) / $ticks_per_second }")" >>"$results"
        done
    done
done

table=$(python3 - "$results" "$reps" "$seconds" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def median(peer, rw, qd, key):
    return statistics.median(r[key] for r in rows if r["peer"] == peer and r["rw"] == rw and r["qd"] == qd)
busy = any(r["peer"] == "fio raw busy" for r in rows)
print("| workload | fio raw IOPS | nvmf lvol IOPS (÷raw) | nvmf malloc IOPS | nvmf RAID1 IOPS (÷raw) | raw mean µs | nvmf lvol mean µs (+added) | nvmf malloc mean µs | server CPU s per 1M I/O (lvol / malloc / RAID1) |"
      + (" fio raw, other core busy: IOPS, mean µs |" if busy else ""))
print("|---|---|---|---|---|---|---|---|---|" + ("---|" if busy else ""))
for rw, qd in [("randread", 32), ("randwrite", 32), ("randread", 1), ("randwrite", 1)]:
    raw = median("fio raw file", rw, qd, "iops")
    lvol, malloc, raid = (median(f"nvmf {t}", rw, qd, "iops") for t in ("lvol", "malloc", "raid1"))
    raw_us = median("fio raw file", rw, qd, "mean_us")
    lvol_us, malloc_us = median("nvmf lvol", rw, qd, "mean_us"), median("nvmf malloc", rw, qd, "mean_us")
    cpu = " / ".join(f"{median(f'nvmf {t}', rw, qd, 'cpu_s_per_mio'):.1f}" for t in ("lvol", "malloc", "raid1"))
    print(f"| 4 KiB {rw} QD{qd} | {raw:,.0f} | {lvol:,.0f} ({lvol/raw:.3f}) | {malloc:,.0f} | {raid:,.0f} ({raid/raw:.3f}) "
          f"| {raw_us:.1f} | {lvol_us:.1f} (+{lvol_us - raw_us:.1f}) | {malloc_us:.1f} | {cpu} |"
          + (f" {median('fio raw busy', rw, qd, 'iops'):,.0f}, {median('fio raw busy', rw, qd, 'mean_us'):.1f} |" if busy else ""))
print(f"\nMedian of {sys.argv[2]} runs of {sys.argv[3]} s each; `hornbill perf` with one I/O queue as the host, "
      "on the same 2 cores as the target.")
PY
)
echo "$table"

if [[ "${BENCH_NO_RECORD:-0}" != 1 ]]; then
    {
        echo
        echo "### NVMe/TCP loopback vs raw file — $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), $(df -T "$dir/disk0.img" | awk 'NR==2{print $2}'), $(fio --version)"
        echo
        echo "$table"
    } >>docs/benchmarks.md
fi
"$hornbill" rpc -s "$socket" spdk_kill_instance '{"sig_name": "SIGTERM"}' >/dev/null || true
wait "$tgt" || true
rm -f "$dir"/disk?.img
