#!/usr/bin/env bash
# Benchmark of the instance manager's control plane (bench/im.py does the calls): the time from
# InstanceCreate of an engine over two local V2 replicas (nbd frontend) to the first successful
# read through its frontend, and InstanceList latency (median, p99) with many replicas on a disk.
# Goals: engine ready < 1 s, list < 50 ms. Starts its own `hornbill tgt` and
# `hornbill instance-manager`; the client is Python grpcio with stubs generated from proto/ at run
# time. Prints the figures; records nothing.
#
# Environment: BENCH_DIR (bench/out/im), BENCH_PORT (first of the manager's five ports, 18500),
# BENCH_REPLICAS (200), BENCH_LIST_CALLS (100), BENCH_ENGINE_RUNS (5), BENCH_BUILD=debug to use a
# debug build.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-bench/out/im}
port=${BENCH_PORT:-18500}
configuration=${BENCH_BUILD:-release}

if ! python3 -c 'import grpc, grpc_tools' >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check grpcio==1.85.4 grpcio-tools==1.85.4
fi
swift build -c "$configuration" --product hornbill >/dev/null
hornbill=$(swift build -c "$configuration" --show-bin-path)/hornbill

rm -rf "$dir"
mkdir -p "$dir/stubs" "$dir/data"
python3 -m grpc_tools.protoc -I proto --python_out="$dir/stubs" --grpc_python_out="$dir/stubs" proto/*.proto

socket="$dir/tgt.sock"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

"$hornbill" tgt -r "$socket" 2>"$dir/tgt.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.05; done
[ -S "$socket" ] || { echo "the tgt did not start (see $dir/tgt.log)" >&2; exit 1; }

"$hornbill" instance-manager --listen "127.0.0.1:$port" --spdk-enabled --spdk-socket "$socket" \
    --data-dir "$dir/data" --ip 127.0.0.1 2>"$dir/instance-manager.log" &
pids+=($!)

truncate -s 4G "$dir/disk.img"
PYTHONPATH="$dir/stubs" python3 bench/im.py --port "$port" --disk "$dir/disk.img" \
    --replicas "${BENCH_REPLICAS:-200}" --list-calls "${BENCH_LIST_CALLS:-100}" --engine-runs "${BENCH_ENGINE_RUNS:-5}"
