#!/usr/bin/env bats
# kf analyze records each execution in the store (ML Metadata style): the
# input data and schema artifacts, the statistics/schema/anomalies it wrote.

load test_helper

# sql QUERY: rows of the test store, "|"-separated (python3's sqlite3).
sql() {
	python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
' "$KF_STORE/kf.db" "$1"
}

# The executions with their events: "TYPE EVENT_TYPE PATH ARTIFACT_TYPE".
events() {
	sql "SELECT t.name, ev.type, p.step_key, at.name FROM Execution e JOIN Type t ON t.id = e.type_id
	     JOIN Event ev ON ev.execution_id = e.id JOIN EventPath p ON p.event_id = ev.id
	     JOIN Artifact a ON a.id = ev.artifact_id JOIN Type at ON at.id = a.type_id
	     ORDER BY e.id, ev.type, ev.id"
}

sha() {
	python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
}

@test "store: stats records its input dataset and the statistics it wrote" {
	printf 'a,b\n1,x\n2,y\n' >d.csv
	run_kf -0 analyze stats d.csv
	[ "$(events)" = "$(printf 'kf.AnalyzeStats|3|data|Dataset\nkf.AnalyzeStats|4|statistics|Statistics')" ]
	[ "$(sql "SELECT digest FROM Artifact WHERE uri LIKE '%/d.csv'")" = "$(sha d.csv)" ]
	stored=$(sql "SELECT a.uri FROM Artifact a JOIN Type t ON t.id = a.type_id WHERE t.name = 'Statistics'")
	kf --store "$KF_STORE" analyze stats -o json d.csv >printed.json
	python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == json.load(open(sys.argv[2]))' "$stored" printed.json
	[ "$(sql "SELECT p.int_value FROM ArtifactProperty p WHERE p.name = 'num_examples' LIMIT 1")" = 2 ]
	[ "$(sql "SELECT c.name FROM Context c JOIN Type t ON t.id = c.type_id WHERE t.name = 'kf.Analysis'")" = d.csv ]
}

@test "store: the same unchanged input is one artifact across commands" {
	printf 'a,b\n1,x\n2,y\n' >d.csv
	run_kf -0 analyze stats d.csv
	run_kf -0 analyze schema -o pbtxt d.csv
	echo "$output" >printed.pbtxt
	[ "$(sql "SELECT count(*) FROM Artifact a JOIN Type t ON t.id = a.type_id WHERE t.name = 'Dataset'")" = 1 ]
	stored=$(sql "SELECT a.uri FROM Artifact a JOIN Type t ON t.id = a.type_id WHERE t.name = 'Schema'")
	cmp "$stored" printed.pbtxt
}

@test "store: validate records data, schema and anomalies; drift both datasets" {
	printf 'a,b\n1,x\n2,y\n' >d.csv
	printf 'a,b\n1,x\n2,z\n' >e.csv
	kf --store "$KF_STORE" analyze schema d.csv >s.yaml
	run_kf -1 analyze validate --schema s.yaml -e TRAINING e.csv
	run_kf -0 analyze drift d.csv e.csv
	[ "$(events | grep -v AnalyzeSchema)" = "$(printf '%s\n' \
		'kf.AnalyzeValidate|3|data|Dataset' 'kf.AnalyzeValidate|3|schema|Schema' \
		'kf.AnalyzeValidate|4|anomalies|Anomalies' \
		'kf.AnalyzeDrift|3|baseline|Dataset' 'kf.AnalyzeDrift|3|current|Dataset' 'kf.AnalyzeDrift|4|drift|Anomalies')" ]
	[ "$(sql "SELECT int_value FROM ArtifactProperty WHERE name = 'num_anomalies'")" = 1 ]
	[ "$(sql "SELECT string_value FROM ExecutionProperty WHERE name = 'environment'")" = TRAINING ]
}

@test "store: standard input is not an artifact, the execution is recorded" {
	printf 'a\n1\n' | kf --store "$KF_STORE" analyze stats - >/dev/null
	[ "$(events)" = "kf.AnalyzeStats|4|statistics|Statistics" ]
}

@test "store: an unwritable store is a warning, the result stands" {
	[ "$(id -u)" != 0 ] || skip "root writes anywhere"
	printf 'a\n1\n' >d.csv
	mkdir ro && chmod 555 ro
	run_kf -0 --store ro/store analyze stats d.csv
	assert_output --partial 'warning: not recorded in the store'
	assert_output --partial 'FEATURE'
}

@test "store: a store that is not a directory is a warning, the result stands" {
	printf 'a\n1\n' >d.csv
	: >notadir
	run "$KF_BIN" --store notadir analyze stats d.csv
	[ "$status" -eq 0 ]
	assert_output --partial 'warning: not recorded in the store'
	assert_line --regexp '^a +INT +1 +0'
}

@test "store: every input of a multi-file stats is an input artifact" {
	for i in 1 2 3 4 5 6; do printf 'a\n%d\n' "$i" >d$i.csv; done
	run_kf -0 analyze stats d1.csv d2.csv d3.csv d4.csv d5.csv d6.csv
	[ "$(sql "SELECT count(*) FROM Event WHERE type = 3")" = 6 ]
	[ "$(sql "SELECT count(DISTINCT a.digest) FROM Artifact a JOIN Type t ON t.id = a.type_id WHERE t.name = 'Dataset'")" = 6 ]
}

@test "store: -v says what was recorded, -q does not" {
	printf 'a\n1\n' >d.csv
	run_kf -0 -v analyze stats d.csv
	assert_output --regexp 'recorded execution 1 in ".*store"'
	run_kf -0 analyze stats -q d.csv
	refute_output --partial 'recorded'
}
