#!/usr/bin/env bats
# Lineage across commands: a pipeline that makes data, trains, evaluates and
# blesses (examples/taxi), then kf serve of the pushed model; the trace of the
# served model must name the data, the transform, the training with its
# parameters, the evaluation and the blessing.

load test_helper

setup_file_local() {
	command -v curl >/dev/null || skip "needs curl"
	"$KF_BIN" help | grep -q '^  serve ' || skip "kf was built without libmicrohttpd (no kf serve)"
}

serve_once() {
	start_server --repo "$TEST_DIR/models"
	stop_server
}

@test "the trace of the served model: data, transform, training and its parameters, evaluation, blessing" {
	run_kf -0 -q run "$KF_SRCDIR/examples/taxi/taxi.yaml" -p repo="$TEST_DIR/models/taxi" -p rows=2000
	serve_once
	run_kf -0 lineage trace "$TEST_DIR/models/taxi/1" --both -o json
	echo "$output" > trace.json
	python3 - trace.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
nodes = d["items"]
types = {n["type"] for n in nodes}
for want in ("Dataset", "Transform", "kf.Transform", "kf.Train", "kf.AnalyzeModel", "ModelBlessing", "kf.Serve"):
    assert want in types, (want, sorted(types))
data = sorted(n["label"] for n in nodes if n["type"] == "Dataset" and n["label"])
assert data == ["eval", "train"], data
train = [n for n in nodes if n["type"] == "kf.Train"]
assert len(train) == 1, train
props = train[0]["properties"]
assert props["label_expr"] == "tips > 0.2 * fare" and "seed" in props and props["model"] in ("logistic", "mlp"), props
steps = {n["label"] for n in nodes if n["type"] == "kf.Step"}
assert {"data", "evaluate", "push"} <= steps, steps
# the winner's step carries the training's parameters as the step saw them
assert any(n["properties"].get("input:model") == props["model"] for n in nodes if n["type"] == "kf.Step"), nodes
PY
}

@test "a store holding an artifact marked DELETED whose content survived (a gc killed between the two) heals on the next gc" {
	run_kf -0 -q run "$FIXTURES/8001/train.yaml"
	uri=$(sqlite3 "$KF_STORE/kf.db" "SELECT uri FROM Artifact a JOIN Type t ON t.id = a.type_id WHERE t.name = 'Model'")
	sqlite3 "$KF_STORE/kf.db" "UPDATE Artifact SET state = 4 WHERE uri = '$uri'"
	[ -e "$uri" ]
	run_kf -0 lineage gc -o json
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [i["reason"] for i in d["items"]] == ["no artifact refers to it"], d'
	[ ! -e "$uri" ]
	[ "$(sqlite3 "$KF_STORE/kf.db" 'PRAGMA integrity_check')" = ok ]
	run_kf -0 lineage gc --dry-run -o json
	echo "$output" | python3 -c 'import json,sys; assert json.load(sys.stdin)["items"] == []'
}
