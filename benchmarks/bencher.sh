#!/usr/bin/env bash
# Builds, once, the SDK's benchmarking host `frame-omni-bencher` (pinned to the release the
# workspace uses) in the `production` profile (fat LTO, one codegen unit), from the crates
# registry with its own lock file, into its own target directory: the tests' build is never
# touched, and weights are measured on a host built as a validator's node should be. Prints the
# binary's path. Cold, it takes about an hour on 2 cores; afterwards nothing.
#
# Usage: benchmarks/bencher.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

version="0.28.0" # frame-omni-bencher of frame-benchmarking-cli 64 (polkadot-sdk stable2609)
root="$HOME/.cache/perpchain/bencher"
bin="$root/bin/frame-omni-bencher"
if [[ -x "$bin" ]] && grep -q "frame-omni-bencher $version " "$root/.crates.toml" 2>/dev/null; then
	echo "$bin"
	exit 0
fi
log "building frame-omni-bencher $version (production profile; about an hour cold on 2 cores)"
CARGO_TARGET_DIR="$HOME/.cache/perpchain/bench-target" cargo install frame-omni-bencher \
	--version "$version" --locked --root "$root" --profile production \
	--config 'profile.production.inherits="release"' \
	--config 'profile.production.lto=true' \
	--config 'profile.production.codegen-units=1' >&2
echo "$bin"
