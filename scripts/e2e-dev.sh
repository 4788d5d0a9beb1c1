#!/usr/bin/env bash
# End-to-end smoke test: start the dev node on free ports, check it through @polkadot/api
# (zombienet/js/smoke-dev.mjs), stop it. The node is stopped whatever happens.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$ROOT/scripts/setup.sh" --js
build_node

# `--price-sources`: a bad file stops the node before it starts, with the reason; a good one
# is stored where the offchain worker reads it (the smoke test checks it, then sets its own
# list over RPC). Its three sources refuse connections: nothing is fed from them.
sources="$(mktemp)"
bad="$(mktemp)"
echo '[{"asset": 2, "url": "http://a.example/btc"}]' >"$bad"
if timeout 120 "$NODE_BIN" --dev --tmp --price-sources "$bad" >"$bad.log" 2>&1; then
	log "the node started with an invalid --price-sources file"
	exit 1
fi
grep -qF "is not a valid price source list" "$bad.log" || {
	log "no reason given for the invalid --price-sources file:"
	cat "$bad.log" >&2
	exit 1
}
for i in 1 2 3; do echo "{\"asset\": 2, \"url\": \"http://127.0.0.1:1/btc-$i\", \"path\": \"price\"}"; done |
	paste -sd, | sed 's/^/[/; s/$/]/' >"$sources"
start_dev_node --price-sources "$sources"

status=0
PRICE_SOURCES_FILE="$sources" node "$ROOT/zombienet/js/smoke-dev.mjs" "ws://127.0.0.1:$RPC_PORT" ||
	status=$?
if [[ $status -ne 0 ]]; then
	log "node log (last 60 lines):"
	tail -n 60 "$NODE_LOG" >&2
fi
# The smoke test's price sources include one answering 500 and one refusing connections: the
# offchain worker must have skipped both with a log line.
if [[ $status -eq 0 ]]; then
	for skipped in "/broken for asset 3 skipped: Status(500)" "/closed for asset 3 skipped: Io"; do
		if ! grep -qF "$skipped" "$NODE_LOG"; then
			log "no '$skipped' line in the node log"
			status=1
		fi
	done
fi
no_panic_in_log || status=1
exit $status
