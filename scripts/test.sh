#!/usr/bin/env bash
# The whole test suite: makes sure PostgreSQL is up, then runs every test against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
cargo test "$@"
