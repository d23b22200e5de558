#!/usr/bin/env bash
# Builds the suite, starts every service on localhost with its data under ./var,
# loads the official province list and the Hà Nội sample registry through the
# public API, and prints the compiled counts. Then keeps the suite running until
# Ctrl-C (which stops every service cleanly), or stops at once with --once.
#
# Ports: HTX_REGISTRY_PORT (default 50051); metrics on HTX_METRICS_PORT (9101).
# Data: HTX_DATA_DIR (default ./var/data); logs in ./var/log.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
once=false
[ "${1:-}" = "--once" ] && once=true

bash "$root/deploy/local/build.sh"

bin="$root/build/services"
data="${HTX_DATA_DIR:-$root/var/data}"
logs="$root/var/log"
registry_addr="127.0.0.1:${HTX_REGISTRY_PORT:-50051}"
metrics_addr="127.0.0.1:${HTX_METRICS_PORT:-9101}"
mkdir -p "$data" "$logs"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

"$bin/registry/htx-registry" --listen="$registry_addr" --data_dir="$data/registry" \
  --metrics_listen="$metrics_addr" >"$logs/registry.log" 2>&1 &
pids+=($!)

cli=("$bin/registry/htx-registry-cli" --addr="$registry_addr")
cd "$root"
"${cli[@]}" wait-ready || { cat "$logs/registry.log"; exit 1; }
"${cli[@]}" import-units
"${cli[@]}" load-sample
for year in 2023 2024 2025; do
  echo
  "${cli[@]}" counts --unit=provinces/01 --as_of="$year-12-31"
done

echo
echo "registry: $registry_addr (gRPC, reflection on), metrics: http://$metrics_addr/metrics"
echo "data: $data, logs: $logs"
echo "try: ${cli[*]} list --parent=provinces/01/communes/00001"
if $once; then
  exit 0
fi
echo "running; Ctrl-C stops every service"
wait "${pids[@]}"
