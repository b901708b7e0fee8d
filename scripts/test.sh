#!/usr/bin/env bash
# The whole test suite: makes sure PostgreSQL is up and the tools the end-to-end tests drive
# are installed, then runs every test against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
bash scripts/ensure-tools.sh
cargo test "$@"
