#!/usr/bin/env bash
# The dashboard's own CPU cost on a live pipeline with the page open
# (issue 13 §6; goal <= 2 % of a core).
#
# Runs `framecast send` (the ball pattern, 1280x720 at 30 fps, H.264 to a
# UDP port nobody reads) for SECS seconds, alternately without the
# dashboard and with FRAMECAST_DASHBOARD plus headless Chromium showing
# the page (its SSE updates each second, the tracers the dashboard turns
# on), ROUNDS times each. Reports the framecast process's CPU (user+sys
# from /proc, % of one core) per run, measured after a 3 s warm-up, and
# the mean difference. Chromium's own CPU is the viewer's and is not
# counted.
#
#   cargo build --release -p framecast-cli
#   crates/framecast-bench/scripts/dashboard_cost.sh [SECS] [ROUNDS]
set -euo pipefail
BIN=${BIN:-target/release/framecast}
SECS=${1:-10}
ROUNDS=${2:-2}
PORT=${PORT:-18093}
TICK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# One run; prints the CPU % of one core. $1: "off", "tracers" (the
# tracers the dashboard turns on, without it: what the page itself adds
# is the rest) or "on".
run() {
  local mode=$1 env=() chrome=""
  [ "$mode" = on ] && env=(FRAMECAST_DASHBOARD=127.0.0.1:$PORT)
  [ "$mode" = tracers ] && env=("FRAMECAST_TRACERS=leaks(log-leaks-on-deinit=false);stats;latency")
  env "${env[@]}" "$BIN" send --to 127.0.0.1:9 --pattern ball --size 1280x720 --fps 30 \
    --seconds $((SECS + 5)) >/dev/null 2>&1 &
  local pid=$!
  if [ "$mode" = on ]; then
    sleep 1
    local profile
    profile=$(mktemp -d)
    chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
      --disable-component-update --disable-sync --user-data-dir="$profile" \
      --remote-debugging-port=0 "http://127.0.0.1:$PORT/" >/dev/null 2>&1 &
    chrome=$!
  fi
  sleep 3
  local t0 c0 t1 c1
  t0=$(date +%s.%N); c0=$(cpu_ticks "$pid")
  sleep "$SECS"
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid")
  [ -n "$chrome" ] && kill "$chrome" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  [ -n "$chrome" ] && wait "$chrome" 2>/dev/null || true
  awk -v c="$((c1 - c0))" -v hz="$TICK" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.2f\n", 100 * c / hz / (t1 - t0) }'
}

off_sum=0; on_sum=0
for r in $(seq "$ROUNDS"); do
  off=$(run off); tracers=$(run tracers); on=$(run on)
  echo "round $r: without dashboard ${off} %, its tracers alone ${tracers} %, with the page open ${on} % (of one core)"
  off_sum=$(awk -v a="$off_sum" -v b="$off" 'BEGIN { print a + b }')
  on_sum=$(awk -v a="$on_sum" -v b="$on" 'BEGIN { print a + b }')
done
awk -v a="$off_sum" -v b="$on_sum" -v n="$ROUNDS" \
  'BEGIN { printf "mean: without %.2f %%, with %.2f %%, dashboard cost %.2f %% of one core\n", a/n, b/n, (b-a)/n }'
