#!/usr/bin/env bash
# Makes sure the programs the end-to-end tests drive are installed: tmux (the console's copy
# goes through tmux's clipboard when it runs inside tmux) and xmllint (package libxml2-utils:
# payout batches' SEPA files are validated against the ISO 20022 pain.001.001.03 schema in
# tests/fixtures). Installs them from Debian's
# packages when absent; prints what is missing and exits non-zero when it cannot.
set -euo pipefail

say() { echo "ensure-tools: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

missing=()
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  say "missing: ${missing[*]}; install them by hand"
  exit 1
fi
say "installing ${missing[*]} from Debian's packages"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || { say "apt-get update failed (needs root and the package registry)"; exit 1; }
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
  || { say "could not install ${missing[*]}; install by hand (apt-get install ${missing[*]})"; exit 1; }
