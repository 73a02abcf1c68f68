#!/usr/bin/env bats
# examples/taxi end to end: the README's main example (examples/run-main.sh)
# with fewer rows, the pipeline's caching and pushing, and the real sample.

load test_helper

setup_file_local() {
	command -v curl >/dev/null || skip "needs curl"
	"$KF_BIN" help | grep -q '^  serve ' || skip "kf was built without libmicrohttpd (no kf serve)"
}

@test "the main example runs steps 1-6 and prints its summary" {
	KF_EXAMPLE_DIR=$TEST_DIR/ex ROWS=3000 run sh "$KF_SRCDIR/examples/run-main.sh" "$KF_BIN"
	echo "$output"
	[ "$status" -eq 0 ]
	assert_line --regexp '^models +wide \(logistic, 2 workers\) AUC 0\.[0-9]{4}; deep \(mlp\) AUC 0\.[0-9]{4}$'
	assert_line --regexp '^blessing +BLESSED$'
	assert_line --regexp "^pushed +$TEST_DIR/ex/models/taxi/1$"
	line=$(echo "$output" | grep '^prediction')
	echo "${line#prediction}" | python3 -c 'import json,sys; p=json.load(sys.stdin)["predictions"]; assert len(p)==1 and 0<=p[0]<=1, p'
	for r in stats anomalies evaluation; do
		grep -q '<svg' "$TEST_DIR/ex/reports/$r.html" || grep -q '<table' "$TEST_DIR/ex/reports/$r.html"
	done
	# the anomaly the generator injected into the eval split is reported
	grep -q 'Mobile' "$TEST_DIR/ex/reports/anomalies.html"
	[ -f "$TEST_DIR/ex/models/taxi/1/kf-model.json" ]
}

@test "the taxi pipeline: a second run is all cached, new data pushes a new version only when not worse" {
	repo=$TEST_DIR/models/taxi
	run_kf -0 -q run "$KF_SRCDIR/examples/taxi/taxi.yaml" -p repo="$repo" -p rows=2000
	run1=$output
	[ -d "$repo/1" ] && [ ! -d "$repo/2" ]
	run_kf -0 -q run "$KF_SRCDIR/examples/taxi/taxi.yaml" -p repo="$repo" -p rows=2000
	run_kf -0 run show "$output" -o json
	echo "$output" | python3 -c '
import json, sys
tasks = json.load(sys.stdin)["tasks"]
assert all(t["state"] == "Cached" for t in tasks), [(t["name"], t["state"]) for t in tasks]'
	[ ! -d "$repo/2" ]
	# more data, another seed: the new best model is judged against version 1
	run_kf -q run "$KF_SRCDIR/examples/taxi/taxi.yaml" -p repo="$repo" -p rows=4000 -p seed=2
	if [ "$status" -eq 0 ]; then
		[ -d "$repo/2" ]
	else
		# not blessed: not worse than version 1 failed, and nothing was pushed
		[ "$status" -eq 1 ] && [ ! -d "$repo/2" ]
	fi
	run_kf -0 lineage diff "$run1" "$(kf --store "$KF_STORE" run ls -o name | head -1)" -o json
	assert_output --partial '"name":	"rows"'
}

@test "the taxi pipeline compiles to a workflow a cluster accepts" {
	run_kf -0 compile "$KF_SRCDIR/examples/taxi/taxi.yaml" -o taxi.yaml
	need_validator
	run validate_k8s taxi.yaml
	assert_success
}

@test "on the real Chicago taxi sample the best model reaches AUC 0.95 on the mod-5 split" {
	need_shared_data chicago-taxi/data.csv
	data=$(cd "$SHARED/data/chicago-taxi" && pwd)/data.csv
	run_kf -0 -q run "$KF_SRCDIR/examples/taxi/taxi.yaml" -p repo="$TEST_DIR/models/taxi" -p data="$data"
	run_kf -0 run show "$output" -o json
	echo "$output" | python3 -c '
import json, os, sys
tasks = {t["name"]: t for t in json.load(sys.stdin)["tasks"]}
aucs = [json.load(open(os.path.join(tasks[n]["outputs"]["artifacts"]["model"]["uri"], "metrics.json")))["auc"]
        for n in ("train-wide", "train-deep")]
print(aucs)
assert max(aucs) >= 0.95, aucs'
}
