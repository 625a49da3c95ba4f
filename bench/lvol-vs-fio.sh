#!/usr/bin/env bash
# Benchmark: a thin lvol (clusters allocated) driven by `hornbill perf` against fio on the raw
# backing file, in the same run, on the same file (design/BENCHMARKS.md). Prints a table of
# medians and ratios, and appends it to docs/benchmarks.md.
#
# Environment: BENCH_FILE (default bench/out/disk.img), BENCH_FILE_GIB (2), BENCH_SPAN_GIB (1),
# BENCH_TIME seconds per run (10), BENCH_REPS repetitions (3), BENCH_NO_RECORD=1 to skip docs/.
set -euo pipefail
cd "$(dirname "$0")/.."

file=${BENCH_FILE:-bench/out/disk.img}
file_gib=${BENCH_FILE_GIB:-2}
span_gib=${BENCH_SPAN_GIB:-1}
seconds=${BENCH_TIME:-10}
reps=${BENCH_REPS:-3}
span=$((span_gib * 1024 * 1024 * 1024))

if ! command -v fio >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio
fi
swift build -c release --product hornbill >/dev/null
hornbill=.build/release/hornbill

mkdir -p "$(dirname "$file")" bench/out
rm -f "$file"
truncate -s "${file_gib}G" "$file"
# Allocate every block of the file so neither side reads holes.
fio --name=fill --filename="$file" --direct=1 --ioengine=io_uring --bs=1M --iodepth=8 --rw=write \
    --size="${file_gib}G" --output=/dev/null

results=bench/out/lvol-vs-fio.jsonl
: >"$results"
for workload in "randread 32" "randwrite 32" "randread 1" "randwrite 1"; do
    set -- $workload
    rw=$1 depth=$2
    for rep in $(seq "$reps"); do
        fio --name=raw --filename="$file" --direct=1 --ioengine=io_uring --bs=4k --iodepth="$depth" \
            --rw="$rw" --size="$span" --time_based --runtime="$seconds" --randrepeat=0 --norandommap \
            --output-format=json --output=bench/out/fio.json
        python3 bench/row.py fio "fio raw file" "$rw" "$depth" bench/out/fio.json >>"$results"
        # Both sides measure blocks the fill above wrote: the lvstore does not unmap its data
        # region first (the root file system is mounted with discard, so unmapping would punch
        # holes whose discards reach the disk while the lvol is measured, and every lvol write
        # would land on blocks the file system had just reallocated; fio's never do).
        "$hornbill" perf -d "lvol:$file" -w "$rw" -o 4096 -q "$depth" -t "$seconds" --span "$span" --clear-method none --json \
            >bench/out/perf.json
        python3 bench/row.py perf "hornbill lvol" "$rw" "$depth" bench/out/perf.json >>"$results"
    done
done

table=$(python3 - "$results" "$reps" "$seconds" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def median(peer, rw, qd, key):
    return statistics.median(r[key] for r in rows if r["peer"] == peer and r["rw"] == rw and r["qd"] == qd)
print(f"| workload | fio raw IOPS | lvol IOPS | lvol/raw IOPS | fio mean µs | lvol mean µs | lvol/raw latency | lvol p99 µs |")
print("|---|---|---|---|---|---|---|---|")
for rw, qd in [("randread", 32), ("randwrite", 32), ("randread", 1), ("randwrite", 1)]:
    fi, li = median("fio raw file", rw, qd, "iops"), median("hornbill lvol", rw, qd, "iops")
    fl, ll = median("fio raw file", rw, qd, "mean_us"), median("hornbill lvol", rw, qd, "mean_us")
    lp = median("hornbill lvol", rw, qd, "p99_us")
    print(f"| 4 KiB {rw} QD{qd} | {fi:,.0f} | {li:,.0f} | {li/fi:.2f} | {fl:.1f} | {ll:.1f} | {ll/fl:.2f} | {lp:.1f} |")
md = [r["md_bytes_per_gib"] for r in rows if r.get("md_bytes_per_gib")]
print(f"\nMedian of {sys.argv[2]} runs of {sys.argv[3]} s each. lvol metadata memory: {statistics.median(md):,.0f} bytes per GiB of volume (1 MiB clusters).")
PY
)
echo "$table"

if [[ "${BENCH_NO_RECORD:-0}" != 1 ]]; then
    {
        echo
        echo "### lvol vs raw file — $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), $(df -T "$file" | awk 'NR==2{print $2}'), $(fio --version)"
        echo
        echo "$table"
    } >>docs/benchmarks.md
fi
rm -f "$file"
