#!/usr/bin/env bash
# A narrated liquidation cascade against the running dev chain (start it first with
# ./scripts/run-dev.sh): traders, price feeds, leveraged positions, a falling BTC price, and the
# node's offchain worker liquidating them (zombienet/js/demo.mjs).
#
# Usage: scripts/demo.sh [ws://127.0.0.1:9944]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$ROOT/scripts/setup.sh" --js
exec node "$ROOT/zombienet/js/demo.mjs" "${1:-ws://127.0.0.1:9944}"
