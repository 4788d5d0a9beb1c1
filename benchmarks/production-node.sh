#!/usr/bin/env bash
# Builds the node as a validator runs it: the `production` profile (fat LTO, one codegen unit),
# in the benchmarks' own target directory (~/.cache/perpchain/bench-target), so the tests' build
# is never touched. Its one feature, `benchmark-cli`, adds the `benchmark` subcommand and the
# `runtime-benchmarks` feature that lets `benchmark storage` reach the database under the client
# (sc-client-db's handles to it exist only with it); the database, trie and hashing code it
# times is a validator's. Prints the binary's path. `benchmarks/storage.sh` times
# the database with it: the database, the trie and the hashing are the node's native code, and
# a debug build's would be timed instead of a validator's. On 2026-12-04 (2 cores) it took
# 30 min with the target directory already holding `frame-omni-bencher`'s build (bencher.sh);
# afterwards only what changed.
#
# Usage: benchmarks/production-node.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

target="$HOME/.cache/perpchain/bench-target"
log "building the node in the production profile (into $target)"
(cd "$ROOT" && CARGO_TARGET_DIR="$target" cargo build --locked --profile production \
	-p perpchain-node --features benchmark-cli >&2)
echo "$target/production/perpchain-node"
