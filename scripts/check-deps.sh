#!/usr/bin/env bash
# Dependency policy, checked from Cargo.lock without compiling:
#   - no RocksDB anywhere in the node's dependency tree (ParityDB only);
#   - no relay-chain (polkadot-*), parachain (cumulus-*) or XCM crate, and not the benchmark
#     CLI, in the node's default tree: the dev chain and a validator build none of them (the
#     benchmark CLI, which brings them, is the node's `benchmark-cli` feature, for benchmarks/);
#   - no Polkadot SDK crate in two versions.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

status=0
tree="$(cargo tree --locked -p perpchain-node --features "$FEATURES" -e normal,build --prefix none)"
if grep -Eq '^(librocksdb-sys|kvdb-rocksdb|rocksdb) ' <<<"$tree"; then
	echo "RocksDB is in the node's dependency tree:" >&2
	grep -E '^(librocksdb-sys|kvdb-rocksdb|rocksdb) ' <<<"$tree" | sort -u >&2
	status=1
fi

foreign='^(polkadot-[a-z-]+|cumulus-[a-z-]+|staging-xcm[a-z-]*|xcm-[a-z-]+|frame-benchmarking-cli) '
if grep -Eq "$foreign" <<<"$tree"; then
	echo "relay-chain, parachain or benchmark CLI crates are in the node's default tree:" >&2
	grep -E "$foreign" <<<"$tree" | sort -u >&2
	status=1
fi

sdk='^(sp-|sc-|frame-|pallet-|substrate-|polkadot-|cumulus-|staging-|xcm)'
dups="$(cargo tree --locked --workspace --features "$FEATURES" -d --depth 0 -e normal,build \
	--prefix none | grep -E "$sdk" | awk '{print $1, $2}' | sort -u |
	awk '{n[$1]++; v[$1] = v[$1] " " $2} END {for (c in n) if (n[c] > 1) print c ":" v[c]}')"
if [[ -n "$dups" ]]; then
	echo "Polkadot SDK crates in more than one version:" >&2
	echo "$dups" >&2
	status=1
fi

[[ $status -eq 0 ]] && log "dependency policy holds: no RocksDB, no relay-chain, parachain or benchmark CLI crate in the node, one version of every SDK crate"
exit $status
