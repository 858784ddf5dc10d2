#!/usr/bin/env bash
# Checks the monitoring files with Prometheus's own promtool (ctest's
# monitoring_rules): the alerting rules load and pass their unit tests
# (tradestore-alerts.test.yml), and every query of the Grafana dashboard
# is valid PromQL. That the metrics they name are the ones the code writes
# is tests/ops/alert_rules_test.cc.
#
#   tools/monitoring/check.sh [PROMTOOL]
set -euo pipefail
cd "$(dirname "$0")"
promtool=${1:-promtool}
"$promtool" check rules tradestore-alerts.yml
"$promtool" test rules tradestore-alerts.test.yml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The dashboard's queries as recording rules, which promtool parses.
python3 - tradestore-dashboard.json >"$tmp/dashboard.yml" <<'PY'
import json, sys
panels = json.load(open(sys.argv[1]))["panels"]
exprs = [t["expr"] for p in panels for t in p.get("targets", [])]
if len(exprs) < 10:
    sys.exit(f"only {len(exprs)} queries in the dashboard")
print("groups:\n  - name: dashboard\n    rules:")
for i, e in enumerate(exprs):
    print(f"      - record: dashboard_query_{i}\n        expr: {json.dumps(e)}")
PY
"$promtool" check rules "$tmp/dashboard.yml"
