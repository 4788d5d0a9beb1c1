#!/usr/bin/env bash
# Measures the database's cost of one storage read and one storage write (`benchmark storage`,
# ParityDB, state version 1) and writes them to runtime/src/weights/paritydb_weights.rs, the
# runtime's `DbWeight`. The state is a busy chain's: the simulator's population (default
# 100,000 margin accounts, drawn as in benchmarks/RISK.md, each with its wallet, deposits,
# positions and risk-index entries) opens its accounts through the real runtime, and the state
# after that block becomes the genesis of a copy of the dev chain, which the node imports into a
# new ParityDB database before it measures. The node that measures is built as a validator's
# (`benchmarks/production-node.sh`): the database, the trie and the hashing are its native code.
#
# Writes are timed in batches that each compute the storage root once and commit, as a block
# does; the default batch, 10,000 keys, is about what a block full of liquidations writes (4
# keys an account and 22 a batch of 64, `pallets/liquidation/src/weights.rs`: 2,500 accounts
# write about 10,900), so the root's cost is shared as in such a block and not over more writes
# than a block makes.
#
# Usage: benchmarks/storage.sh [--accounts N] [--batch-size KEYS]
# Run it with nothing else running on the machine: every read and write is timed.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

accounts=100000
batch=10000
while [[ $# -gt 0 ]]; do
	case "$1" in
	--accounts) accounts="${2:?--accounts needs a number}"; shift ;;
	--batch-size) batch="${2:?--batch-size needs a number}"; shift ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done

"$ROOT/scripts/setup.sh"
build_node
node="$("$ROOT/benchmarks/production-node.sh")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$ROOT"

log "the state of $accounts accounts (perpchain-sim state)"
"$CARGO_TARGET_DIR/debug/perpchain-sim" state --accounts "$accounts" --out "$work"
"$node" build-spec --chain dev --raw 2>/dev/null >"$work/dev.json"
# The dev chain's spec with that state as its genesis; the runtime's code stays the node's.
python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
spec = json.load(open(f"{work}/dev.json"))
state = json.load(open(f"{work}/state.json"))
code = "0x3a636f6465"
state[code] = spec["genesis"]["raw"]["top"][code]
spec["genesis"]["raw"]["top"] = state
spec["id"] = "perpchain_storage_benchmark"
json.dump(spec, open(f"{work}/spec.json", "w"))
print(f"genesis of {len(state)} keys", file=sys.stderr)
EOF

log "benchmark storage -> runtime/src/weights/paritydb_weights.rs"
"$node" benchmark storage \
	--chain "$work/spec.json" \
	--base-path "$work/db" \
	--database paritydb \
	--state-version 1 \
	--batch-size "$batch" \
	--template-path benchmarks/db-weight-template.hbs \
	--weight-path runtime/src/weights/paritydb_weights.rs
