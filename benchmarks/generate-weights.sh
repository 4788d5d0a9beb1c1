#!/usr/bin/env bash
# Regenerates the weights: builds the runtime (it always carries the `runtime-benchmarks`
# feature, see scripts/lib.sh) and the SDK's benchmarking host, `frame-omni-bencher`, in the
# `production` profile (LTO, one codegen unit) as a validator's node is built (see
# benchmarks/bencher.sh), then runs `benchmark pallet` on the runtime's wasm and its development
# preset for each project pallet, writing pallets/<name>/src/weights.rs from
# benchmarks/pallet-weight-template.hbs, and for each SDK pallet whose weights the runtime sets,
# writing runtime/src/weights/<pallet>.rs from benchmarks/runtime-weight-template.hbs. The wasm
# the host executes is the one the node embeds; only the host (storage, hashing, allocator,
# the wasm compiler) is built apart, in its own target directory.
#
# Usage: benchmarks/generate-weights.sh [--quick] [--only PALLET[,PALLET...]]
#   --quick: 2 steps x 1 repeat, to check the plumbing; committed weights use the defaults.
#   --only: benchmark only the named pallets (e.g. `pallet_margin,pallet_liquidation`), after
#           a change that touches only them; `overhead` names the block's and an extrinsic's
#           fixed costs (runtime/src/weights/{block,extrinsic}_weights.rs).
# The database's costs come from benchmarks/storage.sh.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

steps=50
repeat=20
only=""
while [[ $# -gt 0 ]]; do
	case "$1" in
	--quick) steps=2; repeat=1 ;;
	--only) only=",${2:?--only needs a list of pallets},"; shift ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
# Whether `--only` leaves pallet $1 in.
selected() { [[ -z "$only" || "$only" == *",$1,"* ]]; }

"$ROOT/scripts/setup.sh"
build_node
BENCHER="$("$ROOT/benchmarks/bencher.sh")"
# Paths relative to the workspace root, so the generated headers name no machine's directories.
cd "$ROOT"

# `benchmark pallet` with the settings every weight file shares; the rest of the arguments
# name the pallet, the template and the output. Proof recording is off: this is a solo chain,
# its blocks are imported without a storage proof and its weights ignore proof size, so timing
# the calls with a recorder attached would charge every block for work the node never does.
bench() {
	"$BENCHER" v1 benchmark pallet \
		--runtime "$RUNTIME_WASM" \
		--genesis-builder runtime \
		--genesis-builder-preset development \
		--extrinsic '*' \
		--steps "$steps" \
		--repeat "$repeat" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--disable-proof-recording \
		"$@"
}

# Project pallets: their own `WeightInfo` trait and its implementations.
declare -A pallets=(
	[pallet_perp_oracle]=oracle
	[pallet_margin]=margin
	[pallet_liquidation]=liquidation
)
for pallet in "${!pallets[@]}"; do
	selected "$pallet" || continue
	out="pallets/${pallets[$pallet]}/src/weights.rs"
	log "benchmark pallet $pallet -> $out"
	bench --pallet "$pallet" --template benchmarks/pallet-weight-template.hbs --output "$out"
done

# SDK pallets whose weights the runtime sets: an implementation of their `WeightInfo` each.
for pallet in frame_system pallet_timestamp pallet_balances pallet_sudo pallet_assets pallet_utility; do
	selected "$pallet" || continue
	out="runtime/src/weights/$pallet.rs"
	log "benchmark pallet $pallet -> $out"
	bench --pallet "$pallet" --template benchmarks/runtime-weight-template.hbs --output "$out"
done

# The fixed costs of a block and of an extrinsic (`benchmark overhead`: an empty block, and a
# block full of `system.remark`s, per extrinsic), for the runtime's `BlockWeights`.
if selected overhead; then
	log "benchmark overhead -> runtime/src/weights/{block,extrinsic}_weights.rs"
	"$BENCHER" v1 benchmark overhead \
		--runtime "$RUNTIME_WASM" \
		--genesis-builder runtime \
		--genesis-builder-preset development \
		--weight-path runtime/src/weights
	# (The SDK's template starts with an empty line.)
	rustfmt --edition 2021 runtime/src/weights/block_weights.rs runtime/src/weights/extrinsic_weights.rs
fi
