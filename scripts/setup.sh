#!/usr/bin/env bash
# Installs what is missing for building and testing, and nothing else:
#   - the Rust wasm target and rust-src (for the runtime's wasm build),
#   - protoc and clang (Debian packages),
#   - with --js: Node.js/npm if absent, and the pinned npm packages of zombienet/.
# Safe to run again: every step checks first.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

want_js=false
[[ "${1:-}" == "--js" ]] && want_js=true

as_root() {
	if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_updated=false
apt_install() {
	if ! $apt_updated; then
		log "apt-get update"
		as_root apt-get update -qq
		apt_updated=true
	fi
	log "apt-get install $*"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup first" >&2; exit 1; }

if rustup target list --installed | grep -qx 'wasm32v1-none'; then :; else
	log "rustup target add wasm32v1-none"
	rustup target add wasm32v1-none
fi
if rustup component list --installed | grep -q '^rust-src'; then :; else
	log "rustup component add rust-src"
	rustup component add rust-src
fi
if ! command -v protoc >/dev/null; then apt_install protobuf-compiler; fi
if ! command -v clang >/dev/null; then apt_install clang libclang-dev; fi

if $want_js; then
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then apt_install nodejs npm; fi
	lock="$ROOT/zombienet/package-lock.json"
	installed="$ROOT/zombienet/node_modules/.package-lock.json"
	if [[ ! -f "$installed" || "$lock" -nt "$installed" ]]; then
		log "npm ci (zombienet/)"
		(cd "$ROOT/zombienet" && npm ci --no-audit --no-fund)
	fi
fi
