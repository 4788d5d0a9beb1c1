#!/usr/bin/env bash
# The zombienet suite: sets up what is missing (as test.sh), builds the node, and runs every
# zombienet/*.zndsl test with the native provider (our node binary as local processes), or only
# the tests named on the command line.
#
# Usage: scripts/zombienet.sh [zombienet/0002-liquidation.zndsl ...]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$ROOT/scripts/setup.sh" --js
build_node
# The networks run `perpchain-node` from PATH.
export PATH="$(dirname "$NODE_BIN"):$PATH"

cd "$ROOT/zombienet"
if [[ $# -gt 0 ]]; then
	tests=()
	for t in "$@"; do tests+=("$(basename "$t")"); done
else
	tests=(0*.zndsl)
fi

failed=()
for t in "${tests[@]}"; do
	log "zombienet test $t"
	started=$SECONDS
	if node_modules/.bin/zombienet -p native -l text test "$t"; then
		log "$t passed in $((SECONDS - started)) s"
	else
		log "$t FAILED after $((SECONDS - started)) s"
		failed+=("$t")
	fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
	log "zombienet: ${#failed[@]} of ${#tests[@]} failed: ${failed[*]}"
	exit 1
fi
log "zombienet: all ${#tests[@]} passed"
