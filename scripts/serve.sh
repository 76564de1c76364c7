#!/usr/bin/env bash
# Start every process the product needs on 127.0.0.1:8000: the web server with
# CYBERQMS_WEB_WORKERS worker processes (default 2), the background worker, the scheduler
# (audit-trail sealing every second, detection over every process's events, scheduled
# verification) and the syslog listener (UDP and TCP 127.0.0.1:5514 unless
# CYBERQMS_SYSLOG_* say otherwise). Stops all of them when any one exits or on Ctrl-C.
# The processes share everything through the database (docs/operations.md, "Several
# processes and nodes"); another node runs the same processes against the same PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${CYBERQMS_HOST:-127.0.0.1}
PORT=${CYBERQMS_PORT:-8000}
WORKERS=${CYBERQMS_WEB_WORKERS:-2}

$BIN/cyberqms migrate --no-input -v0
$BIN/cyberqms collectstatic --no-input -v0

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

$BIN/granian --interface wsgi --host "$HOST" --port "$PORT" --workers "$WORKERS" --blocking-threads 8 \
  --no-ws cyberqms.wsgi:application &
pids+=($!)
$BIN/cyberqms db_worker --queue-name '*' &
pids+=($!)
$BIN/cyberqms scheduler &
pids+=($!)
$BIN/cyberqms syslog &
pids+=($!)

for _ in $(seq 1 50); do
  if curl -fsS "http://$HOST:$PORT/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
echo "cyberqms is serving on http://$HOST:$PORT with $WORKERS web workers (Ctrl-C stops the web server, worker, scheduler and syslog listener)"
wait -n "${pids[@]}"
