#!/usr/bin/env bash
# README command 2 (and .ci/run): set up what is missing, then formatting, clippy, the Rust
# tests (pallets, benchmarks as tests, runtime) and the end-to-end smoke test of the dev chain.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh" --js

"$ROOT/scripts/check-deps.sh"

log "cargo fmt --check"
cargo fmt --all --check

# Clippy only checks, so it needs no wasm blob. It gets its own target directory: a wasm-less
# run of the runtime's build script in the main one would make the next build redo the runtime.
log "cargo clippy -D warnings"
SKIP_WASM_BUILD=1 CARGO_TARGET_DIR="$CARGO_TARGET_DIR/clippy" \
	cargo clippy --locked --workspace --all-targets --features "$FEATURES" -- -D warnings

log "cargo test"
cargo test --locked --workspace --features "$FEATURES"

"$ROOT/scripts/e2e-dev.sh"
