#!/usr/bin/env bash
# End-to-end smoke test: start the dev node on free ports, check it through @polkadot/api
# (zombienet/js/smoke-dev.mjs), stop it. The node is stopped whatever happens.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$ROOT/scripts/setup.sh" --js
build_node

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

work="$(mktemp -d)"
node_pid=""
cleanup() {
	if [[ -n "$node_pid" ]] && kill -0 "$node_pid" 2>/dev/null; then
		kill -TERM "$node_pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$node_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

rpc_port="$(free_port)"
p2p_port="$(free_port)"
log "starting the dev node (rpc $rpc_port, p2p $p2p_port, log $work/node.log)"
"$NODE_BIN" --dev --base-path "$work/chain" --database paritydb --rpc-port "$rpc_port" \
	--port "$p2p_port" --no-prometheus --no-telemetry --no-mdns --offchain-worker always \
	>"$work/node.log" 2>&1 &
node_pid=$!

for _ in $(seq 1 120); do
	if ! kill -0 "$node_pid" 2>/dev/null; then
		tail -n 40 "$work/node.log" >&2
		echo "the node exited before its RPC came up" >&2
		exit 1
	fi
	if grep -q "Running JSON-RPC server" "$work/node.log"; then break; fi
	sleep 1
done

status=0
node "$ROOT/zombienet/js/smoke-dev.mjs" "ws://127.0.0.1:$rpc_port" || status=$?
if [[ $status -ne 0 ]]; then
	log "node log (last 60 lines):"
	tail -n 60 "$work/node.log" >&2
fi
# The smoke test's price sources include one answering 500 and one refusing connections: the
# offchain worker must have skipped both with a log line.
if [[ $status -eq 0 ]]; then
	for skipped in "/broken for asset 3 skipped: Status(500)" "/closed for asset 3 skipped: Io"; do
		if ! grep -qF "$skipped" "$work/node.log"; then
			log "no '$skipped' line in the node log"
			status=1
		fi
	done
fi
if grep -q "panicked at" "$work/node.log"; then
	log "the node panicked:"
	grep -A5 "panicked at" "$work/node.log" >&2
	status=1
fi
exit $status
