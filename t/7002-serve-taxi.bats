#!/usr/bin/env bats
# kf serve with a model kf train just made on the Chicago taxi data: the
# server predicts what `kf train predict` predicts from the same raw rows,
# and each load is recorded as a deployment of the trained model artifact.

load test_helper

setup_file_local() {
	command -v curl >/dev/null || skip "curl is not installed"
	need_shared_data chicago-taxi/data.csv
	head -n 1501 "$SHARED/data/chicago-taxi/data.csv" >train.csv
	{ head -n 1 train.csv; sed -n '1502,1521p' "$SHARED/data/chicago-taxi/data.csv"; } >rows.csv
	SERVER_PID=
}

teardown_local() {
	if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$SERVER_PID" 2>/dev/null
	fi
	return 0
}



# The CSV rows as TF Serving instances: empty cells null, numbers as numbers.
instances() {
	python3 - "$1" <<-'EOF'
	import csv, json, sys
	def cell(v):
	    if v == "":
	        return None
	    try:
	        return float(v) if any(c in v for c in ".eE") else int(v)
	    except ValueError:
	        return v
	with open(sys.argv[1]) as f:
	    rows = [{k: cell(v) for k, v in r.items()} for r in csv.DictReader(f)]
	print(json.dumps({"instances": rows}))
	EOF
}

@test "serve: a kf train taxi model predicts through the server what kf train predict does" {
	command -v python3 >/dev/null || skip "python3 is needed to turn CSV rows into JSON"
	run_kf -0 train --model logistic --data train.csv --label-expr 'tips > 0.2 * fare' \
		--ignore trip_start_timestamp --epochs 3 --out taxi
	# the CSV form: its numbers read back exactly (%.17g)
	run_kf -0 train predict --model-dir taxi --data rows.csv --format csv
	python3 -c 'import csv,sys; [print(repr(float(r["probability"]))) for r in csv.DictReader(sys.stdin)]' \
		<<<"$output" >want
	[ "$(wc -l <want)" -eq 20 ]
	start_server taxi
	instances rows.csv >req.json
	curl -s --data-binary @req.json "$URL/v1/models/taxi:predict" >got.json
	python3 -c 'import json,sys; [print(repr(p)) for p in json.load(sys.stdin)["predictions"]]' <got.json >got
	diff -u want got
	# the columnar and V2 forms give the same numbers
	python3 -c '
import json, sys
rows = json.load(open("req.json"))["instances"]
names = sorted({k for r in rows for k in r})
print(json.dumps({"inputs": {n: [r.get(n) for r in rows] for n in names}}))' >cols.json
	curl -s --data-binary @cols.json "$URL/v1/models/taxi:predict" >got.json
	python3 -c 'import json,sys; [print(repr(p)) for p in json.load(sys.stdin)["outputs"]]' <got.json >got
	diff -u want got
	stop_server
}

@test "serve: each load is recorded as a deployment of the trained model artifact" {
	command -v sqlite3 >/dev/null || skip "the sqlite3 shell is needed to read the store"
	run_kf -0 train --model logistic --data train.csv --label-expr 'tips > 0.2 * fare' --epochs 2 --out taxi
	start_server taxi
	stop_server
	run sqlite3 "$KF_STORE/kf.db" "
		SELECT t.name, x.name, a.digest = (SELECT a2.digest FROM Event e2 JOIN Execution x2 ON x2.id = e2.execution_id
		                                JOIN Type t2 ON t2.id = x2.type_id JOIN Artifact a2 ON a2.id = e2.artifact_id
		                                JOIN Type at2 ON at2.id = a2.type_id
		                                WHERE t2.name = 'kf.Train' AND e2.type = 4 AND at2.name = 'Model')
		FROM Execution x JOIN Type t ON t.id = x.type_id
		JOIN Event e ON e.execution_id = x.id AND e.type = 3 JOIN Artifact a ON a.id = e.artifact_id
		WHERE t.name = 'kf.Serve'"
	[ "$status" -eq 0 ]
	assert_output "kf.Serve|taxi:1|1"
	# the deployment's model is the trained bundle, joined by content
	run_kf -0 lineage trace taxi -o json
	echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert "kf.Train" in [n["type"] for n in d["items"]], d["items"]'
	run sqlite3 "$KF_STORE/kf.db" "SELECT c.name FROM Context c JOIN Type t ON t.id = c.type_id WHERE t.name = 'kf.Serving'"
	assert_output "taxi"
}
