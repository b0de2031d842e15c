#!/usr/bin/env bash
# Fuzzes the REST API against its own OpenAPI document with schemathesis
# (pinned, in .venv-schemathesis): starts `switchboard up --demo` on a free
# loopback port with a fresh data directory and fixed demo keys, waits for
# /readyz, runs `st run` with a fixed seed and a bounded number of examples
# per operation, stops the server (also when st fails) and exits non-zero
# on any finding:
#
#   not_a_server_error            no 5xx, whatever the input
#   status_code_conformance       every status answered is documented
#   content_type_conformance      every response's Content-Type is documented
#   response_schema_conformance   every body matches its documented schema
#
# Run alone (after `cargo build -p switchboard`):  bash tests/schemathesis.sh
# SCHEMATHESIS_MAX_EXAMPLES and SCHEMATHESIS_SEED override the defaults;
# the report (JUnit, and the server's log) goes to target/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
installed() { "$1/bin/pip" show "$2" 2>/dev/null | sed -n 's/^Version: //p' || true; }
if [ ! -x .venv-schemathesis/bin/st ] || [ "$(installed .venv-schemathesis schemathesis)" != "$SCHEMATHESIS_VERSION" ]; then
    echo "tests/schemathesis.sh: installing schemathesis==$SCHEMATHESIS_VERSION into .venv-schemathesis" >&2
    python3 -m venv .venv-schemathesis
    .venv-schemathesis/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

bin=${SWITCHBOARD_BIN:-${CARGO_TARGET_DIR:-target}/debug/switchboard}
[ -x "$bin" ] || { echo "tests/schemathesis.sh: missing $bin: cargo build -p switchboard" >&2; exit 1; }
seed=${SCHEMATHESIS_SEED:-20261204}
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-100}
tenant_key=schemathesis-tenant-key
operator_key=schemathesis-operator-key

out=target/schemathesis
rm -rf "$out"
mkdir -p "$out"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-schemathesis.XXXXXX")
server=""
stop() {
    if [ -n "$server" ]; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$data"
}
trap stop EXIT

# Rates raised (as loadtest/bench.sh does) so that a 429 comes only from
# what is tested, not from the fuzzer's own pace.
SWITCHBOARD_DEMO_API_KEY=$tenant_key SWITCHBOARD_DEMO_OPERATOR_KEY=$operator_key \
SWITCHBOARD_API_RATE_PER_KEY=1000000 SWITCHBOARD_API_RATE_PER_IP=1000000 \
SWITCHBOARD_PARTNER_RATE_PER_MINUTE=1000000 SWITCHBOARD_PARTNER_RATE_PER_LINK_PER_MINUTE=1000000 \
SWITCHBOARD_GRPC_ADDR=127.0.0.1:0 RUST_LOG=${RUST_LOG:-warn} \
    "$bin" up --demo --data-dir "$data" --http-addr "127.0.0.1:$port" > "$out/server.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 400); do
    curl -sf "$base/readyz" > /dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$out/server.log" >&2; echo "tests/schemathesis.sh: the server exited" >&2; exit 1; }
    sleep 0.05
done
curl -sf "$base/readyz" > /dev/null || { echo "tests/schemathesis.sh: the server is not ready; see $out/server.log" >&2; exit 1; }

checks=${SCHEMATHESIS_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}
common=(--seed "$seed" --max-examples "$max_examples" --checks "$checks" --phases examples,coverage,fuzzing
        --request-timeout 10 --no-color --warnings off --generation-database none)
status=0
# The tenant's operations with the tenant key, the operators' with the operator key.
echo "tests/schemathesis.sh: tenant key, every operation but the operators' (seed $seed, at most $max_examples examples each)"
.venv-schemathesis/bin/st run "$base/openapi.json" "${common[@]}" -H "x-api-key: $tenant_key" --exclude-tag operators \
    --report junit --report-junit-path "$out/tenant.xml" || status=$?
echo "tests/schemathesis.sh: operator key, the operators' operations"
.venv-schemathesis/bin/st run "$base/openapi.json" "${common[@]}" -H "x-api-key: $operator_key" --include-tag operators \
    --report junit --report-junit-path "$out/operator.xml" || status=$?
if [ "$status" -ne 0 ]; then
    echo "tests/schemathesis.sh: schemathesis found a problem (server log: $out/server.log)" >&2
fi
exit "$status"
