#!/usr/bin/env bash
# Dependency policy, checked from Cargo.lock without compiling:
#   - no RocksDB anywhere in the node's dependency tree (ParityDB only);
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

sdk='^(sp-|sc-|frame-|pallet-|substrate-|polkadot-|cumulus-|staging-|xcm)'
dups="$(cargo tree --locked --workspace --features "$FEATURES" -d --depth 0 -e normal,build \
	--prefix none | grep -E "$sdk" | awk '{print $1, $2}' | sort -u |
	awk '{n[$1]++; v[$1] = v[$1] " " $2} END {for (c in n) if (n[c] > 1) print c ":" v[c]}')"
if [[ -n "$dups" ]]; then
	echo "Polkadot SDK crates in more than one version:" >&2
	echo "$dups" >&2
	status=1
fi

[[ $status -eq 0 ]] && log "dependency policy holds: no RocksDB, one version of every SDK crate"
exit $status
