#!/usr/bin/env bash
# Runs the cascade simulator (benchmarks/simulator) built in the workspace's one profile and
# feature set, so it compiles no second copy of the dependencies. Arguments go to the
# simulator, e.g.
#   ./scripts/sim.sh may-2021 --accounts 2000 --policies baseline,close-factor-25
#   ./scripts/sim.sh ci
# (`benchmarks/simulator.sh` runs the standard set and writes benchmarks/RISK.md.)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
log "building the simulator (cargo build, features: $FEATURES)"
cargo build --locked --workspace --features "$FEATURES" --bin perpchain-sim
exec "$CARGO_TARGET_DIR/debug/perpchain-sim" "$@"
