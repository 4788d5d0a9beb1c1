#!/usr/bin/env bash
# End-to-end smoke test: start the dev node on free ports, check it through @polkadot/api
# (zombienet/js/smoke-dev.mjs), stop it. The node is stopped whatever happens.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$ROOT/scripts/setup.sh" --js
build_node

start_dev_node

status=0
node "$ROOT/zombienet/js/smoke-dev.mjs" "ws://127.0.0.1:$RPC_PORT" || status=$?
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
