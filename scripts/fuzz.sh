#!/usr/bin/env bash
# Runs the runtime fuzzer (runtime/fuzz) built in the workspace's one profile and feature set,
# so it compiles no second copy of the dependencies. Arguments go to the fuzzer, e.g.
#   ./scripts/fuzz.sh --seed 1 --calls 50000
#   ./scripts/fuzz.sh --replay runtime/fuzz/regressions/<file>.txt
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
log "building the fuzzer (cargo build, features: $FEATURES)"
cargo build --locked --workspace --features "$FEATURES" --bin perpchain-fuzz
exec "$CARGO_TARGET_DIR/debug/perpchain-fuzz" "$@"
