#!/usr/bin/env bash
# Regenerates the project pallets' weights: builds the node (it always carries the
# `runtime-benchmarks` feature, see scripts/lib.sh), runs `benchmark pallet` for each project
# pallet on the development genesis, and writes pallets/<name>/src/weights.rs from
# benchmarks/pallet-weight-template.hbs.
#
# Usage: benchmarks/generate-weights.sh [--quick]
#   --quick: 2 steps x 1 repeat, to check the plumbing; committed weights use the defaults.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

steps=50
repeat=20
if [[ "${1:-}" == "--quick" ]]; then steps=2; repeat=1; fi

"$ROOT/scripts/setup.sh"
build_node
# Paths relative to the workspace root, so the generated headers name no machine's directories.
cd "$ROOT"

declare -A pallets=(
	[pallet_perp_oracle]=oracle
	[pallet_margin]=margin
	[pallet_liquidation]=liquidation
)

for pallet in "${!pallets[@]}"; do
	out="pallets/${pallets[$pallet]}/src/weights.rs"
	log "benchmark pallet $pallet -> $out"
	"$NODE_BIN" benchmark pallet \
		--chain dev \
		--pallet "$pallet" \
		--extrinsic '*' \
		--steps "$steps" \
		--repeat "$repeat" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template benchmarks/pallet-weight-template.hbs \
		--output "$out"
done
