#!/usr/bin/env bash
# Starts the partnerdesk console on the local default database with demo data: makes sure
# PostgreSQL is up, builds the binary, seeds the demo data set (once), then opens the console.
# Arguments are passed on (e.g. `scripts/demo.sh doctor`, `scripts/demo.sh --read-only`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
cargo build --release --quiet
bin=target/release/partnerdesk
"$bin" seed --demo
exec "$bin" "$@"
