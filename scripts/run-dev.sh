#!/usr/bin/env bash
# README command 1: set up what is missing, build, and run the dev chain on ws://127.0.0.1:9944
# (Alice authoring and finalizing, embedded ParityDB in a temporary directory, offchain workers
# on with HTTP, offchain indexing available). Extra arguments go to the node.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$ROOT/scripts/setup.sh"
build_node
log "starting $NODE_BIN --dev (Ctrl-C stops it)"
exec "$NODE_BIN" --dev --database paritydb --offchain-worker always \
	--enable-offchain-indexing true --rpc-port 9944 "$@"
