# Shared settings of the project scripts; sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
export HOME
# rustup installs cargo in ~/.cargo/bin; a non-login shell (CI) may not have it on PATH.
if ! command -v cargo >/dev/null && [[ -x "$HOME/.cargo/bin/cargo" ]]; then
	export PATH="$HOME/.cargo/bin:$PATH"
fi
# A persistent target directory outside the clone: every clone on this machine, and CI, reuses
# the compiled dependencies instead of rebuilding the stack from cold.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/perpchain/target}"
# One feature set serves the tests, the dev node and `benchmark pallet`, so everything shares
# one set of compiled dependencies.
FEATURES="runtime-benchmarks,try-runtime"
NODE_BIN="$CARGO_TARGET_DIR/debug/perpchain-node"
# The runtime's wasm as the node embeds it (substrate-wasm-builder builds it optimized).
RUNTIME_WASM="$CARGO_TARGET_DIR/debug/wbuild/perpchain-runtime/perpchain_runtime.wasm"

log() { printf '==> %s\n' "$*" >&2; }

build_node() {
	log "building the node and its runtime (cargo build, features: $FEATURES)"
	(cd "$ROOT" && cargo build --locked --workspace --features "$FEATURES")
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_dev_node [node arguments...]: starts `--dev` on free ports, its chain and log
# (NODE_LOG) in a new temporary directory (NODE_WORK), and waits for its RPC. Sets NODE_PID,
# RPC_PORT, NODE_LOG and NODE_WORK; the node is stopped and the directory removed when the
# script exits, whatever happens.
NODE_PID=""
NODE_WORK=""
start_dev_node() {
	NODE_WORK="$(mktemp -d)"
	trap stop_dev_node EXIT INT TERM
	RPC_PORT="$(free_port)"
	local p2p_port
	p2p_port="$(free_port)"
	NODE_LOG="$NODE_WORK/node.log"
	log "starting the dev node (rpc $RPC_PORT, p2p $p2p_port, log $NODE_LOG)"
	"$NODE_BIN" --dev --base-path "$NODE_WORK/chain" --database paritydb --rpc-port "$RPC_PORT" \
		--port "$p2p_port" --no-prometheus --no-telemetry --no-mdns --offchain-worker always \
		"$@" >"$NODE_LOG" 2>&1 &
	NODE_PID=$!
	for _ in $(seq 1 120); do
		if ! kill -0 "$NODE_PID" 2>/dev/null; then
			tail -n 40 "$NODE_LOG" >&2
			echo "the node exited before its RPC came up" >&2
			return 1
		fi
		if grep -q "Running JSON-RPC server" "$NODE_LOG"; then return 0; fi
		sleep 1
	done
	echo "the node's RPC did not come up within 120 s" >&2
	return 1
}

stop_dev_node() {
	if [[ -n "$NODE_PID" ]] && kill -0 "$NODE_PID" 2>/dev/null; then
		kill -TERM "$NODE_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$NODE_PID" 2>/dev/null || true
	fi
	if [[ -n "$NODE_WORK" ]]; then rm -rf "$NODE_WORK"; fi
}

# Fails (returns 1) when the node log shows a panic.
no_panic_in_log() {
	if grep -q "panicked at" "$NODE_LOG"; then
		log "the node panicked:"
		grep -A5 "panicked at" "$NODE_LOG" >&2
		return 1
	fi
}
