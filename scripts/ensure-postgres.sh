#!/usr/bin/env bash
# Makes sure a local PostgreSQL server is running and that the current OS user has a
# superuser role on it (the connection rules' default: the local socket as the OS user).
# Starts an installed server that is down; installs one from Debian's packages if absent.
# Prints what is missing and exits non-zero when it cannot.
set -euo pipefail

say() { echo "ensure-postgres: $*" >&2; }
me=$(id -un)
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@" 2>/dev/null || su postgres -s /bin/sh -c "$(printf '%q ' "$@")";
  else sudo -u postgres "$@"; fi
}

socket_dir() {
  for d in /var/run/postgresql /run/postgresql /tmp; do
    [ -S "$d/.s.PGSQL.5432" ] && { echo "$d"; return 0; }
  done
  return 1
}
socket_up() { socket_dir >/dev/null; }

if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null 2>&1 && ! socket_up; then
  if command -v apt-get >/dev/null 2>&1; then
    say "PostgreSQL is not installed; installing it from Debian's packages"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || { say "apt-get update failed (needs root and the package registry)"; exit 1; }
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null \
      || { say "could not install postgresql; install it by hand (apt-get install postgresql)"; exit 1; }
  else
    say "PostgreSQL is not installed and apt-get is not available: install PostgreSQL 13 or newer"
    exit 1
  fi
fi

if ! socket_up; then
  if command -v pg_lsclusters >/dev/null 2>&1; then
    if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
      ver=$(ls /usr/lib/postgresql | sort -V | tail -n1)
      say "creating cluster $ver/main"
      as_root pg_createcluster "$ver" main >/dev/null
    fi
    pg_lsclusters -h | while read -r ver name _port status _rest; do
      if [ "$status" != online ]; then
        say "starting cluster $ver/$name"
        as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start || true
      fi
    done
  fi
  for _ in $(seq 1 30); do socket_up && break; sleep 1; done
  socket_up || { say "PostgreSQL did not come up on the local socket; see /var/log/postgresql/"; exit 1; }
fi

sock=$(socket_dir)
# A role for the OS user, so that the default connection (socket, OS user) works.
if ! psql -h "$sock" -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  if [ "$me" != postgres ]; then
    say "creating PostgreSQL superuser role '$me'"
    as_postgres createuser --superuser "$me" 2>/dev/null || as_postgres psql -qc "CREATE ROLE \"$me\" SUPERUSER LOGIN" \
      || { say "could not create role $me; run: sudo -u postgres createuser --superuser $me"; exit 1; }
  fi
fi
psql -h "$sock" -d postgres -Atqc 'select version()' >/dev/null \
  || { say "cannot connect to PostgreSQL as $me over the local socket"; exit 1; }
say "PostgreSQL is up ($(psql -h "$sock" -d postgres -Atqc 'show server_version'))"
