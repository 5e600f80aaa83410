#!/usr/bin/env bash
# Fuzzes the running API with schemathesis (from PyPI) against its own /openapi.json, with valid
# tokens. Starts a throwaway gateway (embedded PostgreSQL in a temporary folder) and stops it after.
# Usage: bash scripts/fuzz.sh [max examples per operation, default 30]
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-30}"
work="$(mktemp -d /tmp/counterfoil-fuzz-XXXXXX)"
chmod 755 "$work"
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
export COUNTERFOIL_DATA_DIR="$work" PORT="$(free_port)" COUNTERFOIL_POSTGRES_PORT="$(free_port)" LOG_LEVEL=warn
node dist/scripts/gateway.js > "$work/gateway.log" 2>&1 &
gateway=$!
# Stops the gateway (which stops its PostgreSQL), waits for every process using the folder to go,
# then removes it. It never fails: the script's status is the fuzzer's.
cleanup() {
    kill -INT "$gateway" 2>/dev/null || true
    wait "$gateway" 2>/dev/null || true
    for _ in $(seq 1 60); do
        pgrep -f "$work" >/dev/null || break
        sleep 0.25
    done
    pkill -KILL -f "$work" 2>/dev/null || true
    rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null || { cat "$work/gateway.log"; exit 1; }
token="$(node dist/scripts/token.js --org CustomsMSP --role operator --sub fuzzer)"
# Excluded, with the reason:
# - /v1/events: server-sent events never end; the HTTP tests cover them.
# - /v1/proofs/verify: takes a PDF upload, which schemathesis cannot generate; the PDF tests cover it.
# - the check positive_data_acceptance: some rules cannot be said in JSON Schema (a USCC's GB 32100
#   check character, cursors that only a previous page hands out, "the recipient must be another
#   agency than the caller"), so schema-valid requests are rightly refused with 400. Every other
#   check runs, server errors and answers that break the schema included.
fuzz() {
    schemathesis run "http://127.0.0.1:$PORT/openapi.json" \
        --header "Authorization:Bearer $token" \
        --checks all \
        --exclude-checks positive_data_acceptance \
        --exclude-path /v1/proofs/verify \
        --max-examples "$examples" \
        --generation-deterministic \
        --request-timeout 20 \
        --exclude-path /v1/events \
        --suppress-health-check all \
        --workers 1
}
fuzz 2>&1 | tee "$work/fuzz.log" || status=$?
# Hypothesis, under schemathesis, sometimes crashes in its own code while describing a lambda
# ("AST constructor recursion depth mismatch": CPython 3.11 keeps the AST builder's recursion
# count per interpreter, so two threads parsing at once upset it, CPython issue 106905). One
# worker thread keeps it away (and takes no longer here: about 35 s); should it still happen,
# the run ends as a runtime error of the tool with no failure found, and only then is repeated, once.
if [ "${status:-0}" != 0 ] && ! grep -q '^Failures:' "$work/fuzz.log" && grep -q 'AST constructor recursion depth mismatch' "$work/fuzz.log"; then
    echo "== schemathesis crashed in its own code (not a finding); running it again"
    status=0
    fuzz || status=$?
fi
cleanup
trap - EXIT
exit "${status:-0}"
