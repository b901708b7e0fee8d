#!/usr/bin/env bash
# Starts partnerdesk on the local default database with demo data: makes sure PostgreSQL is
# up, builds the binary, seeds the demo data set (once), then runs the doctor.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
cargo build --release --quiet
bin=target/release/partnerdesk
"$bin" seed --demo
exec "$bin" doctor "$@"
