#!/usr/bin/env bash
# README command 2 (and .ci/run): set up what is missing, then formatting, clippy, the Rust
# tests (pallets, benchmarks as tests, runtime, the fuzzer's regressions, the simulator), a
# fixed-seed fuzzing campaign, the cascade simulator's CI size, the end-to-end smoke test of the
# dev chain and the zombienet network tests.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh" --js

"$ROOT/scripts/check-deps.sh"

log "cargo fmt --check"
cargo fmt --all --check

# Clippy shares the target directory and the build scripts' runs with the build, so the wasm
# runtime is built once (here, on a cold machine) and reused by the tests and the node.
log "cargo clippy -D warnings"
cargo clippy --locked --workspace --all-targets --features "$FEATURES" -- -D warnings

log "cargo test"
cargo test --locked --workspace --features "$FEATURES"

# A fixed-seed fuzzing campaign through the real runtime (runtime/fuzz): fails on a broken
# invariant or a panic, with the shrunk failing sequence saved for a regression file.
log "runtime fuzzer: 50,000 calls, seed 1"
"$ROOT/scripts/fuzz.sh" --seed 1 --calls 50000 --shrink-secs 120 --save-dir "$(mktemp -d)"

# The cascade simulator's CI size (benchmarks/simulator): 500 accounts through the May 2021
# crash on the real runtime; fails on a healthy account liquidated, conservation drift, a
# broken try_state or a panic.
log "cascade simulator: 500 accounts, may-2021"
"$ROOT/scripts/sim.sh" ci >/dev/null

"$ROOT/scripts/e2e-dev.sh"

"$ROOT/scripts/zombienet.sh"
