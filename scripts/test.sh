#!/usr/bin/env bash
# README command 2 (and .ci/run): set up what is missing, then formatting, clippy, the Rust
# tests (pallets, benchmarks as tests, runtime), the end-to-end smoke test of the dev chain and
# the zombienet network tests.
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

"$ROOT/scripts/e2e-dev.sh"

"$ROOT/scripts/zombienet.sh"
