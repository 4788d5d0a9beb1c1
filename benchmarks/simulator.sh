#!/usr/bin/env bash
# Writes benchmarks/RISK.md and its charts (benchmarks/risk/*.png) from one run of the cascade
# simulator's standard set: the three historical replays with feedback under four policies, the
# oracle imperfections, the synthetic sweep and a replay without feedback, over 10,000 accounts.
# Built in the workspace's one profile and feature set. Arguments go to the simulator, e.g.
#   benchmarks/simulator.sh                    # the committed report
#   benchmarks/simulator.sh --accounts 2000    # a quicker look (do not commit it)
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
font="${PERPCHAIN_SIM_FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}"
if [[ ! -f "$font" ]]; then
	log "no chart font at $font: installing fonts-dejavu-core"
	sudo_if() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
	sudo_if apt-get install -y fonts-dejavu-core >&2
fi
log "building the simulator (cargo build, features: $FEATURES)"
cargo build --locked --workspace --features "$FEATURES" --bin perpchain-sim
PERPCHAIN_COMMIT="$(git rev-parse --short HEAD)" \
	"$CARGO_TARGET_DIR/debug/perpchain-sim" standard --out benchmarks "$@" >/dev/null
log "wrote benchmarks/RISK.md and benchmarks/risk/"
