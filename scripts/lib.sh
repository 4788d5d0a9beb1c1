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
FEATURES="runtime-benchmarks"
NODE_BIN="$CARGO_TARGET_DIR/debug/perpchain-node"

log() { printf '==> %s\n' "$*" >&2; }

build_node() {
	log "building the node and its runtime (cargo build, features: $FEATURES)"
	(cd "$ROOT" && cargo build --locked --workspace --features "$FEATURES")
}
