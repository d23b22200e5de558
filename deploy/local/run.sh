#!/usr/bin/env bash
# Builds the suite, starts every service and the gateway on localhost with
# their data under ./var, loads the official province list and the Hà Nội
# sample registry through the public API, prints the compiled counts and
# ready-to-use credentials for sample roles. Then keeps the suite running until
# Ctrl-C (which stops every service cleanly), or stops at once with --once.
#
# Ports: gateway gRPC HTX_GATEWAY_PORT (50050) and JSON HTX_HTTP_PORT (8080);
# registry HTX_REGISTRY_PORT (50051), indicator HTX_INDICATOR_PORT (50052),
# budget HTX_BUDGET_PORT (50053); metrics HTX_METRICS_PORT (9101, +1 for the
# gateway, +2 for the indicator, +3 for the budget).
# Data: HTX_DATA_DIR (./var/data); keys and tokens in ./var/keys (made on first
# run); logs in ./var/log. Hà Nội's appendices are read from
# ../shared/domain/hanoi-2026 beside the project.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
once=false
[ "${1:-}" = "--once" ] && once=true

bash "$root/deploy/local/build.sh"

bin="$root/build/services"
data="${HTX_DATA_DIR:-$root/var/data}"
logs="$root/var/log"
keys="$root/var/keys"
registry_addr="127.0.0.1:${HTX_REGISTRY_PORT:-50051}"
gateway_addr="127.0.0.1:${HTX_GATEWAY_PORT:-50050}"
http_addr="127.0.0.1:${HTX_HTTP_PORT:-8080}"
metrics_port="${HTX_METRICS_PORT:-9101}"
metrics_addr="127.0.0.1:$metrics_port"
gateway_metrics_addr="127.0.0.1:$((metrics_port + 1))"
indicator_addr="127.0.0.1:${HTX_INDICATOR_PORT:-50052}"
indicator_metrics_addr="127.0.0.1:$((metrics_port + 2))"
budget_addr="127.0.0.1:${HTX_BUDGET_PORT:-50053}"
budget_metrics_addr="127.0.0.1:$((metrics_port + 3))"
hanoi="$root/../shared/domain/hanoi-2026"
mkdir -p "$data" "$logs" "$keys/jwt"
chmod 700 "$keys"

# Credentials: the suite's internal key, a JWT signing key and one API key.
token_tool="$bin/gateway/htx-token"
issuer="htx-plan-local"
audience="htx-gateway"
[ -f "$keys/internal.key" ] || "$token_tool" internal-key --out="$keys/internal.key"
[ -f "$keys/jwt-signing.pem" ] ||
  "$token_tool" keygen --keys_dir="$keys/jwt" --kid=local-1 --private_key="$keys/jwt-signing.pem"
if [ ! -f "$keys/identities.txt" ]; then
  "$token_tool" api-key --name=so-nong-nghiep-ha-noi --role=department_integration \
    --scope=provinces/01 --methods=/htx.registry.v1.RegistryService/GetOrganization,/htx.registry.v1.RegistryService/ListOrganizations \
    >"$keys/api-key.out"
  { echo "# API keys (hashed) and certificate names: see docs/gateway.md"; sed -n 2p "$keys/api-key.out"; } \
    >"$keys/identities.txt"
  sed -n 1p "$keys/api-key.out" >"$keys/api-key.so-nong-nghiep-ha-noi"
  rm "$keys/api-key.out"
fi
mint() {  # role scope subject -> a token valid 12 hours
  "$token_tool" mint --private_key="$keys/jwt-signing.pem" --kid=local-1 --issuer="$issuer" \
    --audience="$audience" --role="$1" --scope="$2" --subject="$3" --ttl_seconds=43200
}
mkdir -p "$keys/tokens"
mint ministry_admin - bo-tai-chinh >"$keys/tokens/ministry_admin"
mint province_editor provinces/01 ha-noi-editor >"$keys/tokens/province_editor"
mint province_approver provinces/01 ha-noi-approver >"$keys/tokens/province_approver"
mint commune_editor provinces/01/communes/00001 phuong-mau-1 >"$keys/tokens/commune_editor"
mint auditor - kiem-toan >"$keys/tokens/auditor"

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

"$bin/registry/htx-registry" --listen="$registry_addr" --data_dir="$data/registry" \
  --metrics_listen="$metrics_addr" --internal_key_file="$keys/internal.key" \
  >"$logs/registry.log" 2>&1 &
pids+=($!)
"$bin/indicator/htx-indicator" --listen="$indicator_addr" --data_dir="$data/indicator" \
  --metrics_listen="$indicator_metrics_addr" --internal_key_file="$keys/internal.key" \
  --registry_addr="$registry_addr" >"$logs/indicator.log" 2>&1 &
pids+=($!)
"$bin/budget/htx-budget" --listen="$budget_addr" --data_dir="$data/budget" \
  --metrics_listen="$budget_metrics_addr" --internal_key_file="$keys/internal.key" \
  --registry_addr="$registry_addr" >"$logs/budget.log" 2>&1 &
pids+=($!)
"$bin/gateway/htx-gateway" --listen="$gateway_addr" --http_listen="$http_addr" \
  --data_dir="$data/gateway" --metrics_listen="$gateway_metrics_addr" \
  --internal_key_file="$keys/internal.key" --registry_addr="$registry_addr" \
  --indicator_addr="$indicator_addr" --budget_addr="$budget_addr" \
  --jwt_keys_dir="$keys/jwt" --jwt_issuer="$issuer" --jwt_audience="$audience" \
  --identities_file="$keys/identities.txt" >"$logs/gateway.log" 2>&1 &
pids+=($!)

# The operator's loading talks to the registry directly (signed with the
# internal key); everything else goes through the gateway.
cli=("$bin/registry/htx-registry-cli" --addr="$registry_addr" --internal_key_file="$keys/internal.key")
cd "$root"
"${cli[@]}" wait-ready || { cat "$logs/registry.log"; exit 1; }
"${cli[@]}" import-units
"${cli[@]}" load-sample
for year in 2023 2024 2025; do
  echo
  "${cli[@]}" counts --unit=provinces/01 --as_of="$year-12-31"
done

# Hà Nội's Phụ lục I and II into the 2026 indicator catalog, then the table as
# read back (with the registry's counts beside the derived rows) and the
# findings a reviewer would raise.
icli=("$bin/indicator/htx-indicator-cli" --addr="$indicator_addr" --internal_key_file="$keys/internal.key")
"${icli[@]}" wait-ready || { cat "$logs/indicator.log"; exit 1; }
"${icli[@]}" import-catalog
"${icli[@]}" load-appendix --unit=provinces/01 --year=2026 \
  "$hanoi/phu-luc-1-indicators.csv" "$hanoi/phu-luc-2-by-sector.csv"
echo
"${icli[@]}" table --unit=provinces/01 --year=2026 --table=phu-luc-1
echo
"${icli[@]}" findings --unit=provinces/01 --year=2026

# Hà Nội's Phụ lục III into the 2026 budget catalog: the needs by source as
# read back (parents summed, 3.274 + 16.224 = 19.498) and what the printed
# table leaves unclear.
bcli=("$bin/budget/htx-budget-cli" --addr="$budget_addr" --internal_key_file="$keys/internal.key")
"${bcli[@]}" wait-ready || { cat "$logs/budget.log"; exit 1; }
"${bcli[@]}" import-catalog
"${bcli[@]}" load-appendix --unit=provinces/01 --year=2026 "$hanoi/phu-luc-3-budget.csv"
echo
"${bcli[@]}" table --unit=provinces/01 --year=2026 --table=phu-luc-3
echo
"${bcli[@]}" findings --unit=provinces/01 --year=2026
echo
"${bcli[@]}" rollup --unit= --year=2026

editor_token="$(cat "$keys/tokens/province_editor")"
organization="$("$bin/registry/htx-registry-cli" --addr="$gateway_addr" --token="$editor_token" \
  list --parent=provinces/01/communes/00001 --page_size=1 | awk 'NR==1 {print $1}')"
echo
echo "gateway: $gateway_addr (gRPC, reflection on), http://$http_addr (Connect JSON; /openapi.json)"
echo "registry: $registry_addr, indicator: $indicator_addr, budget: $budget_addr (only for principals signed by the gateway or the operator's tools)"
echo "metrics: http://$metrics_addr/metrics, http://$gateway_metrics_addr/metrics, http://$indicator_metrics_addr/metrics, http://$budget_metrics_addr/metrics"
echo "data: $data, logs: $logs, credentials: $keys"
echo
echo "sample tokens (12 h) in $keys/tokens: ministry_admin, province_editor (provinces/01),"
echo "province_approver (provinces/01), commune_editor (provinces/01/communes/00001), auditor;"
echo "API key of a department (GetOrganization, ListOrganizations in provinces/01):"
echo "  $keys/api-key.so-nong-nghiep-ha-noi"
echo
echo "try (JSON):"
echo "  curl -s -X POST http://$http_addr/htx.registry.v1.RegistryService/GetOrganization \\"
echo "    -H 'Content-Type: application/json' -H \"Authorization: Bearer \$(cat $keys/tokens/province_editor)\" \\"
echo "    -d '{\"name\":\"$organization\"}'"
echo "try (gRPC):"
echo "  $bin/registry/htx-registry-cli --addr=$gateway_addr --token=\"\$(cat $keys/tokens/commune_editor)\" \\"
echo "    get $organization"
echo
curl_out="$(curl -s -X POST "http://$http_addr/htx.registry.v1.RegistryService/GetOrganization" \
  -H 'Content-Type: application/json' -H "Authorization: Bearer $editor_token" \
  -d "{\"name\":\"$organization\"}")"
echo "the JSON example answers: ${curl_out:0:160}..."
if $once; then
  exit 0
fi
echo "running; Ctrl-C stops every service"
wait "${pids[@]}"
