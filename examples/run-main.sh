#!/bin/sh
# The main example, as the README's first quick-start command runs it: the
# Chicago taxi workflow end to end with kf alone (examples/taxi/README).
#
#   sh examples/run-main.sh [path/to/kf]
#
# 1-5 are one pipeline run (examples/taxi/taxi.yaml): make the trips,
# statistics and schema, validation of the eval split, two trainings in
# parallel (one a two-worker TFJob), sliced comparison, bless and push to
# models/taxi/N. 6 serves the repository, sends one prediction with curl and
# stops the server. Everything lands in build/taxi-example/ (or $KF_EXAMPLE_DIR).
set -eu
kf=${1:-kf}
case $kf in */*) kf=$(cd "$(dirname "$kf")" && pwd)/$(basename "$kf") ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
work=${KF_EXAMPLE_DIR:-$top/build/taxi-example}
store=$work/.kf
mkdir -p "$work"
cd "$work"

echo "== 1-5: kf run examples/taxi/taxi.yaml (store: $store)"
run=$("$kf" --store "$store" run -q "$top/examples/taxi/taxi.yaml" \
	-p repo="$work/models/taxi" -p rows="${ROWS:-20000}")
"$kf" --store "$store" run show "$run"
"$kf" --store "$store" run show "$run" -o json > run.json

# what the run produced, from its record
summary=$(python3 - run.json <<'PY'
import json, os, shutil, sys
run = json.load(open(sys.argv[1]))
os.makedirs("reports", exist_ok=True)
tasks = {t["name"]: t for t in run["tasks"]}
def art(task, name):
    return tasks[task]["outputs"]["artifacts"][name]["uri"]
for key, task in (("wide", "train-wide"), ("deep", "train-deep")):
    m = json.load(open(os.path.join(art(task, "model"), "metrics.json")))
    print("%s_auc=%.4f" % (key, m["auc"]))
# the store keeps them by digest; give them names a browser opens
for key, task, name in (("stats", "statistics", "report"), ("anomalies", "validate-eval", "anomalies"),
                        ("evaluation", "evaluate", "report")):
    path = os.path.join(os.getcwd(), "reports", key + ".html")
    shutil.copyfile(art(task, name), path)
    print("%s=%s" % (key, path))
print("blessing=" + " ".join(sorted(os.listdir(art("push", "blessing")))))
PY
)
eval "$summary"
version=$(ls "$work/models/taxi" 2>/dev/null | sort -n | tail -n 1)
[ -n "$version" ] || { echo "run-main: no model was pushed to $work/models/taxi" >&2; exit 1; }

echo "== 6: kf serve --repo models, one prediction with curl"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$kf" --store "$store" serve --repo "$work/models" --port "$port" 2> serve.log &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
i=0
until curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "run-main: the server did not start:" >&2; cat serve.log >&2; exit 1; }
	sleep 0.1
done
request='{"instances": [{"trip_start_hour": 22, "trip_start_day": 6, "trip_start_month": 7,
  "payment_type": "Credit Card", "company": "Flash Cab", "fare": 24.5, "trip_miles": 6.1,
  "trip_seconds": 1140, "pickup_community_area": 8, "dropoff_community_area": 32}]}'
prediction=$(curl -sf -X POST -H 'Content-Type: application/json' -d "$request" \
	"http://127.0.0.1:$port/v1/models/taxi:predict")
kill "$server"
wait "$server" 2>/dev/null || true
trap - EXIT

cat <<SUMMARY

== summary
models          wide (logistic, 2 workers) AUC $wide_auc; deep (mlp) AUC $deep_auc
blessing        $blessing
pushed          $work/models/taxi/$version
prediction      $prediction
reports         statistics  $stats
                anomalies   $anomalies
                evaluation  $evaluation
run             $run (kf --store $store run show $run; kf --store $store lineage trace ...)
SUMMARY
