#!/usr/bin/env bash
# One benchmark point, as in loadtest/README.md ("Performance"): starts a
# fresh `switchboard up --demo` on a temporary data directory, runs
# `switchboard loadtest` against it, stops it, and leaves report.json,
# chart.svg, summary.txt and conditions.txt (machine load before and after)
# in the output directory.
#
#   loadtest/bench.sh DURABILITY RATE DURATION OUTDIR [extra loadtest flags]
#   e.g. loadtest/bench.sh full 300 30s bench/full-300
#
# SWITCHBOARD_BIN picks the server binary (default: target/release/switchboard;
# build it with `cargo build --release -p switchboard`), SWITCHBOARD_LOADGEN
# the one that runs `loadtest` (default: the same). SWITCHBOARD_BENCH_DATA_DIR
# runs the server on that data directory instead of a new empty one (e.g.
# one filled by `switchboard bench store --inquiries 1000000 --data-dir DIR`,
# see README.md "Large stores"); it is used in place and kept, so the run
# adds its inquiries to it (copy it first to reuse the original). Partner requests
# that nobody answers time out after 5 s here, not 300, so that a run ends.
set -euo pipefail
cd "$(dirname "$0")/.."
durability=$1 rate=$2 duration=$3 out=$4
shift 4
bin=${SWITCHBOARD_BIN:-target/release/switchboard}
loadgen=${SWITCHBOARD_LOADGEN:-$bin}
[ -x "$bin" ] || { echo "missing $bin: cargo build --release -p switchboard" >&2; exit 1; }
mkdir -p "$out"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ -n "${SWITCHBOARD_BENCH_DATA_DIR:-}" ]; then
    data=$SWITCHBOARD_BENCH_DATA_DIR
    [ -d "$data" ] || { echo "missing SWITCHBOARD_BENCH_DATA_DIR $data" >&2; exit 1; }
else
    data=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-bench.XXXXXX")
    trap 'rm -rf "$data"' EXIT
fi

# Limits that would otherwise answer 429 to one client sending thousands of
# requests a second (the gateway's per-key, per-address, partner-page and
# partner-link limits, and the tenant's hourly quota of texted submissions).
SWITCHBOARD_DEMO_API_KEY=bench-key SWITCHBOARD_DURABILITY=$durability SWITCHBOARD_PARTNER_DEADLINE_SECS=5 \
SWITCHBOARD_API_RATE_PER_KEY=1000000 SWITCHBOARD_API_RATE_PER_IP=1000000 SWITCHBOARD_PARTNER_RATE_PER_MINUTE=1000000 \
SWITCHBOARD_PARTNER_RATE_PER_LINK_PER_MINUTE=1000000 SWITCHBOARD_SMS_PER_TENANT_PER_HOUR=0 \
SWITCHBOARD_GRPC_ADDR=127.0.0.1:0 RUST_LOG=${RUST_LOG:-info,tower_http=warn,switchboard_sqlite=debug} \
    "$bin" up --demo --data-dir "$data" --http-addr "127.0.0.1:$port" > "$out/server.log" 2>&1 &
server=$!
for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break
    sleep 0.05
done

{
    echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(free -g | awk '/Mem:/ {print $2}') GB"
    echo "durability: $durability, rate: $rate/s, duration: $duration"
    echo "data directory: $data ($(du -sh "$data" | cut -f1) before the run)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/conditions.txt"
"$loadgen" loadtest --target "http://127.0.0.1:$port" --api-key bench-key --rate "$rate" --duration "$duration" \
    --drain 120s --data-dir "$data" --server-pid "$server" --no-progress \
    --report "$out/report.json" --chart "$out/chart.svg" "$@" | tee "$out/summary.txt"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/conditions.txt"
kill -TERM "$server"
wait "$server" || true
grep "database writer" "$out/server.log" | tail -3 >> "$out/conditions.txt" || true
