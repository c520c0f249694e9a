#!/usr/bin/env bash
# deploy/smoke.sh: follow the README's deploy guide on this machine, without
# Docker, and check every step. It starts the processes docker-compose.yml
# and the systemd units start, with the same environment file and the same
# Redis configuration, on free loopback ports in a temporary folder:
#
#   1. `docker compose config` (when docker compose is installed)
#   2. .env from deploy/.env.example with fresh keys; `tipline config check`
#   3. redis-server with deploy/redis.conf (AOF) and a password
#   4. two web and two worker processes (TIPLINE_ROLE), /healthz and /readyz
#   5. a critical and a routine report; both triaged; /metrics counts them
#   6. backup: BGSAVE + copy of dump.rdb and of appendonlydir
#   7. restore each copy into a fresh redis-server and read the reports back
#      through the follow-up API with the same keys
#   8. upgrade step: stop and start one web process; the line keeps taking reports
#
#   bash deploy/smoke.sh [path/to/tipline]     (default: go build into the temp folder)
#
# Needs redis-server, redis-cli and curl. Pages go to the dev outbox (no
# Twilio credentials). Everything it starts is stopped when it exits.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
step() { echo "smoke: $*"; }
fail() { echo "smoke: FAIL: $*" >&2; for f in "$work"/*.log; do echo "== $f" >&2; tail -20 "$f" >&2; done; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  for _ in $(seq $((limit * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "$what"
}

bin="${1:-}"
if [ -z "$bin" ]; then
  step "building tipline"
  (cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$work/tipline" ./cmd/tipline)
  bin="$work/tipline"
fi

# 1. The compose file is valid (with the example .env beside it).
if docker compose version >/dev/null 2>&1; then
  mkdir -p "$work/compose/deploy"
  cp "$repo/docker-compose.yml" "$work/compose/"
  cp "$repo/deploy/redis.conf" "$repo/deploy/tipline.example.yaml" "$repo/deploy/Caddyfile" "$work/compose/deploy/"
  { cat "$repo/deploy/.env.example"; echo "TIPLINE_DOMAIN=tips.example.org"; } > "$work/compose/.env"
  (cd "$work/compose" && docker compose config --quiet) || fail "docker compose config"
  services=$(cd "$work/compose" && docker compose config --services | sort | tr '\n' ' ')
  [ "$services" = "caddy redis web1 web2 worker1 worker2 " ] || fail "compose services: $services"
  step "docker compose config: valid ($services)"
else
  step "docker compose is not installed: skipping its check"
fi

# 2. The environment file, as the README says: the example with real keys.
password="$(openssl rand -hex 16 2>/dev/null || echo smoke0123456789abcdef)"
keys="$("$bin" keys generate)"
sed -e "s|^REDIS_PASSWORD=.*|REDIS_PASSWORD=$password|" \
    -e "s|^TIPLINE_KEYS=.*|$(echo "$keys" | grep '^TIPLINE_KEYS=')|" \
    -e "s|^TIPLINE_HASH_KEY=.*|$(echo "$keys" | grep '^TIPLINE_HASH_KEY=')|" \
    -e "s|^TIPLINE_RATE_LIMIT=.*|TIPLINE_RATE_LIMIT=0|" \
    "$repo/deploy/.env.example" > "$work/env"
chmod 600 "$work/env"
"$bin" config check -f "$repo/deploy/tipline.example.yaml" > "$work/config-check.txt" || fail "config check"
grep -q "otherwise -> district-safety" "$work/config-check.txt" || fail "config check prints no routing tree"
step "tipline config check: $(head -1 "$work/config-check.txt")"

# 3. Redis as compose runs it: deploy/redis.conf, the password on the command line.
# deploy/redis.conf with its data folder here instead of /data.
sed "s|^dir /data$|dir $work|" "$repo/deploy/redis.conf" > "$work/redis.conf"
start_redis() { # start_redis NAME PORT DIR
  mkdir -p "$3"
  redis-server "$work/redis.conf" --port "$2" --bind 127.0.0.1 --dir "$3" \
    --requirepass "$password" --logfile "$work/$1.log" --daemonize no &
  pids+=($!)
  wait_for 20 "$1 did not start" env REDISCLI_AUTH="$password" redis-cli -p "$2" ping
}
rport=$(free_port)
start_redis redis "$rport" "$work/data"
[ "$(REDISCLI_AUTH=$password redis-cli -p "$rport" config get appendonly | tail -1)" = yes ] || fail "AOF is off"
step "redis-server with deploy/redis.conf on :$rport (appendonly yes, noeviction, a password)"

# 4. Four processes, each as its systemd unit starts it: the env file, then
# the unit's own TIPLINE_ROLE and TIPLINE_ADDR.
start_tipline() { # start_tipline NAME ROLE PORT REDIS_PORT
  ( set -a; . "$work/env"; set +a
    export TIPLINE_ROLE="$2" TIPLINE_ADDR="127.0.0.1:$3" TIPLINE_CONFIG="$repo/deploy/tipline.example.yaml"
    export REDIS_URL="redis://:$password@127.0.0.1:$4/0" TIPLINE_PUBLIC_URL="http://127.0.0.1:$3"
    exec "$bin" serve ) >"$work/$1.log" 2>&1 &
  pids+=($!)
  wait_for 60 "$1 never became ready" curl -fsS "http://127.0.0.1:$3/readyz"
}
declare -A port
for p in web1 web2 worker1 worker2; do port[$p]=$(free_port); done
start_tipline web1 web "${port[web1]}" "$rport"
start_tipline web2 web "${port[web2]}" "$rport"
start_tipline worker1 worker "${port[worker1]}" "$rport"
start_tipline worker2 worker "${port[worker2]}" "$rport"
for p in web1 web2 worker1 worker2; do
  curl -fsS "http://127.0.0.1:${port[$p]}/healthz" >/dev/null || fail "$p /healthz"
  TIPLINE_ADDR="127.0.0.1:${port[$p]}" "$bin" healthcheck || fail "$p: tipline healthcheck"
done
step "web1, web2, worker1, worker2 ready (/healthz, /readyz, tipline healthcheck)"

# 5. Reports through both web processes; the workers triage them.
report() { # report PORT ORG BODY -> token
  curl -fsS -H 'Content-Type: application/json' \
    -d "{\"org\":\"$2\",\"body\":\"$3\"}" "http://127.0.0.1:$1/api/v1/reports" |
    sed -n 's/.*"token":"\([0-9A-Z-]*\)".*/\1/p'
}
status() { # status PORT TOKEN -> status
  curl -sS -H 'Content-Type: application/json' -d "{\"token\":\"$2\"}" "http://127.0.0.1:$1/api/v1/followup" |
    sed -n 's/.*"status":"\([a-z_]*\)".*/\1/p'
}
critical=$(report "${port[web1]}" lincoln-high "Marcus said he will bring his dad's gun to room 204 today")
routine=$(report "${port[web2]}" roosevelt-middle "kids vape in the bathroom every lunch")
[ -n "$critical" ] && [ -n "$routine" ] || fail "a report got no token"
assigned() { [ "$(status "$1" "$2")" = assigned ]; }
wait_for 60 "the critical report was not triaged" assigned "${port[web2]}" "$critical"
wait_for 60 "the routine report was not triaged" assigned "${port[web1]}" "$routine"
# Whole pages, then grep on a here-string: grep -q stops reading at its
# match, and with pipefail the writer's broken pipe would fail the check.
metrics=$(curl -fsS "http://127.0.0.1:${port[web1]}/metrics")
grep -q '^tipline_tips_received_total{channel="api",urgency="critical"} 1$' <<<"$metrics" || fail "web1 /metrics: no critical tip counted"
worker_metrics=$(curl -fsS "http://127.0.0.1:${port[worker1]}/metrics")
grep -q '^tipline_queue_tasks{queue="critical",state="pending"}' <<<"$worker_metrics" || fail "worker1 /metrics: no queue figures"
grep -q "dev outbox" "$work"/worker*.log || fail "no page in the dev outbox"
if grep -q -e "Marcus" -e "$critical" "$work"/*.log; then fail "a log holds a report's text or token"; fi
step "critical and routine reports triaged; /metrics counts them; the page went to the dev outbox; no text or token in the logs"

# 6. Backup, as the README says: an RDB snapshot and a copy of the AOF.
cli() { REDISCLI_AUTH="$password" redis-cli -p "$rport" "$@"; }
before=$(cli lastsave)
cli bgsave >/dev/null
saved() { [ "$(cli lastsave)" != "$before" ]; }
wait_for 30 "BGSAVE did not finish" saved
mkdir -p "$work/backup"
cp "$work/data/dump.rdb" "$work/backup/dump.rdb"
cp -r "$work/data/appendonlydir" "$work/backup/appendonlydir"
step "backup: dump.rdb ($(stat -c %s "$work/backup/dump.rdb") bytes) and appendonlydir copied"

# 7. Restore each copy into a fresh redis-server and read the reports back
# through a web process with the same keys.
restore_check() { # restore_check NAME (with the fresh data in $work/NAME)
  local rp tp
  rp=$(free_port); tp=$(free_port)
  start_redis "$1" "$rp" "$work/$1"
  start_tipline "$1-web" web "$tp" "$rp"
  [ "$(status "$tp" "$critical")" = assigned ] || fail "$1: the critical report is not there"
  [ "$(status "$tp" "$routine")" = assigned ] || fail "$1: the routine report is not there"
}
mkdir -p "$work/restore-rdb" && cp "$work/backup/dump.rdb" "$work/restore-rdb/"
# An RDB alone: start without the AOF once, then turn it on so it is written from the data.
rp=$(free_port)
redis-server "$work/redis.conf" --port "$rp" --bind 127.0.0.1 --dir "$work/restore-rdb" \
  --requirepass "$password" --appendonly no --logfile "$work/restore-rdb-load.log" &
loadpid=$!
wait_for 20 "restore from dump.rdb did not start" env REDISCLI_AUTH="$password" redis-cli -p "$rp" ping
REDISCLI_AUTH="$password" redis-cli -p "$rp" config set appendonly yes >/dev/null
wait_for 30 "AOF rewrite after restore" sh -c "REDISCLI_AUTH=$password redis-cli -p $rp info persistence | grep -q 'aof_rewrite_in_progress:0' && test -d $work/restore-rdb/appendonlydir"
REDISCLI_AUTH="$password" redis-cli -p "$rp" shutdown >/dev/null 2>&1 || true
wait "$loadpid" 2>/dev/null || true
restore_check restore-rdb
mkdir -p "$work/restore-aof" && cp -r "$work/backup/appendonlydir" "$work/restore-aof/"
restore_check restore-aof
step "restore: both copies, in fresh redis-servers, answer both tokens with the same keys"

# 8. An upgrade restarts processes one at a time: the line keeps taking reports.
kill "${pids[1]}" # web1 (pids: redis, web1, web2, ...)
wait "${pids[1]}" 2>/dev/null || true
during=$(report "${port[web2]}" lincoln-high "someone left mean notes on lockers")
[ -n "$during" ] || fail "no report taken while web1 was down"
start_tipline web1 web "${port[web1]}" "$rport"
wait_for 60 "the report taken during the restart was not triaged" assigned "${port[web1]}" "$during"
step "rolling restart: web1 stopped and started; a report taken meanwhile by web2 was triaged"

echo "smoke: PASS"
