#!/usr/bin/env bash
# Benchmark of the manager's REST API on loopback: requests per second with wrk (GET a node, PUT a
# setting), and the latency of reads at a fixed rate (bench/api_rate.py: 500 GET/s by default,
# open loop, median and p99). Goal: p99 under 5 ms for reads at 500 req/s. Starts its own
# `hornbill manager` on a fresh data directory. Prints the figures; records nothing.
#
# Environment: BENCH_DIR (bench/out/api), BENCH_PORT (19500), BENCH_SECONDS (10), BENCH_RATE (500),
# BENCH_BUILD=debug to use a debug build.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BENCH_DIR:-bench/out/api}
port=${BENCH_PORT:-19500}
seconds=${BENCH_SECONDS:-10}
rate=${BENCH_RATE:-500}
configuration=${BENCH_BUILD:-release}
node=bench-node

if ! command -v wrk >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
fi
swift build -c "$configuration" --product hornbill >/dev/null
hornbill=$(swift build -c "$configuration" --show-bin-path)/hornbill

rm -rf "$dir"
mkdir -p "$dir/data"
"$hornbill" manager --data-dir "$dir/data" --listen "127.0.0.1:$port" --node-name "$node" --address 127.0.0.1 \
    2>"$dir/manager.log" &
manager=$!
trap 'kill $manager 2>/dev/null; wait $manager 2>/dev/null || true' EXIT

base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    curl -sf "$base/v1/nodes/$node" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "$base/v1/nodes/$node" >/dev/null || { echo "the manager did not register node $node" >&2; exit 1; }

cat >"$dir/put.lua" <<'LUA'
wrk.method = "PUT"
wrk.body = '{"value":"150"}'
LUA

summary() { # label, wrk output
    local rps p50 p99
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$2")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$2")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$2")
    printf '%-40s %10s req/s   p50 %8s   p99 %8s\n' "$1" "$rps" "$p50" "$p99"
}
summary "wrk GET /v1/nodes/$node (2 thr, 16 conn)" \
    "$(wrk -t2 -c16 -d"${seconds}s" --latency "$base/v1/nodes/$node")"
summary "wrk PUT setting (2 thr, 16 conn)" \
    "$(wrk -t2 -c16 -d"${seconds}s" --latency -s "$dir/put.lua" "$base/v1/settings/storage-over-provisioning-percentage")"
python3 bench/api_rate.py "$base/v1/nodes/$node" "$rate" "$seconds"
