#!/usr/bin/env bash
# Benchmark of a volume's control plane and of what it costs on the data path, through a running
# `hornbill server` and its CLI, as a user meets them:
# - time from `volume create` to attached (create --wait, then attach --wait) for V2 and V1
#   volumes of two replicas (nbd frontend), for the first volume on the node and for each next one
#   while every earlier one stays attached, up to BENCH_VOLUMES; prints the first, the median and
#   the last. Goal: under 2 s, flat. (Longhorn's users report about 10 s, growing with the number
#   of volumes attached.)
# - `hornbill perf` 4 KiB randread and randwrite at QD32 over NVMe/TCP to an attached V2 volume of
#   one replica (frontend nvmf), against the same lvol exported by the tgt directly
#   (`nvmf_*` calls), in the same run: what the engine costs. Goal: >= 95%.
# Prints the figures; records nothing.
#
# Environment: BENCH_DIR (bench/out/volume), BENCH_PORT (first of the server's ports, 19500),
# BENCH_VOLUMES (100), BENCH_ENGINES the data engines timed, in order ("v2 v1"), BENCH_TIME seconds
# per perf run (10; 0 skips the perf runs), BENCH_BUILD=debug to use a debug build.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-bench/out/volume}
port=${BENCH_PORT:-19500}
volumes=${BENCH_VOLUMES:-100}
seconds=${BENCH_TIME:-10}
configuration=${BENCH_BUILD:-release}
engines=${BENCH_ENGINES:-v2 v1}

swift build -c "$configuration" --product hornbill >/dev/null
hornbill=$(swift build -c "$configuration" --show-bin-path)/hornbill

rm -rf "$dir"
mkdir -p "$dir"
"$hornbill" server --data-dir "$dir/data" --node-name bench --address 127.0.0.1 --port "$port" \
    --v1-instance-manager-port $((port + 10)) --v2-instance-manager-port $((port + 20)) \
    --v1-process-ports 30000-32999 --v2-instance-ports 33000-36999 2>"$dir/server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
cli() { "$hornbill" "$@" --server "http://127.0.0.1:$port"; }
for _ in $(seq 300); do cli setting get v2-data-engine >/dev/null 2>&1 && break; sleep 0.2; done

cli setting set v2-data-engine-hugepage-limit 2048 >/dev/null
cli setting set v2-data-engine true >/dev/null
cli setting set replica-soft-anti-affinity true >/dev/null
for disk in 1 2; do
    truncate -s 16G "$dir/block-$disk.img"
    for _ in $(seq 300); do
        cli node disk add bench "block-$disk" --path "$dir/block-$disk.img" --type block >/dev/null 2>&1 && break
        sleep 0.2
    done
done
schedulable() {
    cli node get bench --output json | python3 -c '
import json, sys
disks = json.load(sys.stdin)["disks"]
print(all(d.get("conditions", {}).get("Schedulable", {}).get("status") == "True" for d in disks.values()))'
}
for _ in $(seq 300); do [ "$(schedulable)" = True ] && break; sleep 0.2; done

now_ms() { date +%s%3N; }
for engine in $engines; do
    : >"$dir/$engine.times"
    for i in $(seq "$volumes"); do
        start=$(now_ms)
        cli volume create "$engine-$i" --size 16Mi --replicas 2 --data-engine "$engine" --frontend nbd --wait \
            >/dev/null
        cli volume attach "$engine-$i" --node bench --wait >/dev/null
        echo $(($(now_ms) - start)) >>"$dir/$engine.times"
    done
    python3 - "$engine" "$dir/$engine.times" <<'PY'
import statistics, sys
times = [int(line) for line in open(sys.argv[2])]
print(f"{sys.argv[1]} create to attached, 2 replicas: first {times[0]} ms, median {statistics.median(times):.0f} ms, "
      f"last ({len(times)} attached) {times[-1]} ms")
PY
done

[ "$seconds" = 0 ] && exit 0

# The data path: an attached V2 volume of one replica over NVMe/TCP, against its lvol exported
# directly by the tgt.
cli volume create perf --size 1Gi --replicas 1 --data-engine v2 --frontend nvmf --wait >/dev/null
endpoint=$(cli volume attach perf --node bench --wait --output json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["controllers"][0]["endpoint"])')
run_perf() {
    local target=$1 peer=$2 rw=$3
    "$hornbill" perf -d "$target" -w "$rw" -o 4096 -q 32 -t "$seconds" --json >"$dir/perf.json"
    python3 bench/row.py perf "$peer" "$rw" 32 "$dir/perf.json" >>"$dir/perf.jsonl"
}
: >"$dir/perf.jsonl"
# Written once so that reads reach written blocks on both paths.
"$hornbill" perf -d "$endpoint" -w write -o 1048576 -q 8 -t 5 >/dev/null
for rw in randread randwrite; do run_perf "$endpoint" volume "$rw"; done
replica=$(cli volume get perf --output json | python3 -c 'import json, sys; print(json.load(sys.stdin)["replicas"][0]["name"])')
lvol=$(cli volume get perf --output json | python3 -c '
import json, sys
r = json.load(sys.stdin)["replicas"][0]
print(r["diskID"])')
cli volume detach perf --wait >/dev/null
socket="$dir/data/tgt/spdk.sock"
store=$("$hornbill" rpc -s "$socket" bdev_lvol_get_lvstores | python3 -c '
import json, sys
print(next(s["name"] for s in json.load(sys.stdin) if s["uuid"] == sys.argv[1]))' "$lvol")
nqn=nqn.2023-01.io.hornbill:bench-direct
"$hornbill" rpc -s "$socket" nvmf_create_subsystem "{\"nqn\": \"$nqn\", \"allow_any_host\": true}" >/dev/null
"$hornbill" rpc -s "$socket" nvmf_subsystem_add_ns "{\"nqn\": \"$nqn\", \"namespace\": {\"bdev_name\": \"$store/$replica\"}}" >/dev/null
"$hornbill" rpc -s "$socket" nvmf_subsystem_add_listener "{\"nqn\": \"$nqn\", \"listen_address\": {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"$((port + 40))\"}}" >/dev/null
for rw in randread randwrite; do run_perf "nvmf://127.0.0.1:$((port + 40))/$nqn" "lvol direct" "$rw"; done
"$hornbill" rpc -s "$socket" nvmf_delete_subsystem "{\"nqn\": \"$nqn\"}" >/dev/null
python3 - "$dir/perf.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
for rw in ("randread", "randwrite"):
    volume = next(r for r in rows if r["peer"] == "volume" and r["rw"] == rw)
    direct = next(r for r in rows if r["peer"] == "lvol direct" and r["rw"] == rw)
    print(f"{rw} 4 KiB QD32: volume {volume['iops']:.0f} IOPS, lvol direct {direct['iops']:.0f} IOPS, "
          f"ratio {volume['iops'] / direct['iops']:.2f}")
PY
