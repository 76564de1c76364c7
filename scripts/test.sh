#!/usr/bin/env bash
# The whole suite: lint, types, migrations, pytest on SQLite, then pytest on a throw-away
# PostgreSQL server (initdb as the unprivileged postgres user on a free loopback port,
# stopped on exit even when tests fail).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
started=$(date +%s)
export PYTHONDONTWRITEBYTECODE=1

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

need_packages=()
[ -x /usr/bin/chromium ] || need_packages+=(chromium)
# WeasyPrint subsets fonts with HarfBuzz (chromium pulls it in; a machine with a browser
# of its own may lack it, and WeasyPrint then warns, which the suite treats as an error).
ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || need_packages+=(libharfbuzz-subset0)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
  || need_packages+=(postgresql)
if [ ${#need_packages[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need_packages[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi

echo "== ruff"
$BIN/ruff check src benchmarks scripts
echo "== mypy"
$BIN/mypy
echo "== migrations are up to date"
CYBERQMS_DATA_DIR=$(mktemp -d) $BIN/cyberqms makemigrations --check --dry-run >/dev/null \
  || { echo "makemigrations --check failed: a model change has no migration"; exit 1; }

# Parallel workers (pytest-xdist): one per core unless CYBERQMS_TEST_WORKERS says otherwise.
# Work stealing: a worker that runs out takes queued tests from the other, and the slow
# tests are collected first (src/cyberqms/conftest.py), so both finish together.
WORKERS=${CYBERQMS_TEST_WORKERS:-auto}
PARALLEL=(-n "$WORKERS" --dist worksteal)

echo "== pytest on SQLite"
$BIN/python -m pytest -q "${PARALLEL[@]}" "$@"

echo "== pytest on PostgreSQL"
INITDB=$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | tail -1)
PGBIN=$(dirname "$(readlink -f "$INITDB")")
PGDIR=$(mktemp -d /tmp/cyberqms-pg.XXXXXX)
chmod 755 "$PGDIR"
PGPORT=$($BIN/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$PGDIR"
stop_pg() {
  run_pg "'$PGBIN/pg_ctl' -D '$PGDIR/data' -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$PGDIR"
}
trap stop_pg EXIT
run_pg "'$PGBIN/initdb' -D '$PGDIR/data' -U postgres -A trust --no-sync -E UTF8" >/dev/null
run_pg "'$PGBIN/pg_ctl' -D '$PGDIR/data' -w -l '$PGDIR/log' -o \"-p $PGPORT -k '$PGDIR' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start" >/dev/null
export DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/cyberqms"
# The second pass runs what the database engine can change: every test that uses the
# database, except the browser journeys (they exercise pages, and ran above). A test that
# never touches the database (parsers, canonical JSON, the Merkle tree, detection on the
# synthetic plant) behaves the same on either engine and ran above.
$BIN/python -m pytest -q "${PARALLEL[@]}" -m "not browser" --database-tests-only "$@"

echo "== all checks passed in $(( $(date +%s) - started )) s"
