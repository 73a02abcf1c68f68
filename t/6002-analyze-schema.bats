#!/usr/bin/env bats
# kf analyze schema: TFDV inference rules, the three output formats, and
# reading TFDV's own schema.pbtxt files back.

load test_helper

TAXI=$SHARED/data/chicago-taxi/data.csv
TFX=$SHARED/anchors/tfx

jpath() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

small_csv() {
	printf 'n,f,s,b,opt\n1,0.5,red,true,\n2,1.5,blue,false,x\n3,2.5,red,true,\n' >small.csv
}

@test "schema: TFDV's rules for types, presence and string domains (-o json)" {
	small_csv
	run_kf -0 analyze schema -o json small.csv
	echo "$output" >s.json
	[ "$(jpath s.json 'd["kind"]')" = Schema ]
	[ "$(jpath s.json '[(f["name"], f.get("type")) for f in d["feature"]]')" = \
	  "[('n', 'INT'), ('f', 'FLOAT'), ('s', 'BYTES'), ('b', 'BYTES'), ('opt', 'BYTES')]" ]
	[ "$(jpath s.json 'd["feature"][0]["presence"]')" = "{'minFraction': 1, 'minCount': 1}" ]
	[ "$(jpath s.json 'd["feature"][4]["presence"]')" = "{'minCount': 1}" ]
	[ "$(jpath s.json 'd["feature"][0]["valueCount"]')" = "{'min': 1, 'max': 1}" ]
	[ "$(jpath s.json '"valueCount" in d["feature"][4]')" = False ]
	[ "$(jpath s.json 'd["feature"][2]["domain"]')" = s ]
	[ "$(jpath s.json 'd["stringDomain"]')" = "[{'name': 's', 'value': ['blue', 'red']}, {'name': 'opt', 'value': ['x']}]" ]
	[ "$(jpath s.json 'd["feature"][3]["boolDomain"]')" = "{}" ]
	[ "$(jpath s.json 'd["feature"][1]["floatDomain"]')" = "{'disallowNan': True, 'disallowInf': True}" ]
}

@test "schema: --max-domain bounds the string domain" {
	small_csv
	run_kf -0 analyze schema -o json --max-domain 1 small.csv
	echo "$output" >s.json
	[ "$(jpath s.json '[x["name"] for x in d["stringDomain"]]')" = "['opt']" ]
	run_kf -2 analyze schema --max-domain lots small.csv
	assert_output --partial '--max-domain: "lots" is not a count'
}

@test "schema: --infer-ranges pins int and float ranges" {
	small_csv
	run_kf -0 analyze schema -o json --infer-ranges small.csv
	echo "$output" >s.json
	[ "$(jpath s.json 'd["feature"][0]["intDomain"]')" = "{'min': 1, 'max': 3}" ]
	[ "$(jpath s.json 'd["feature"][1]["floatDomain"]')" = "{'min': 0.5, 'max': 2.5, 'disallowNan': True, 'disallowInf': True}" ]
}

@test "schema: -o yaml is the default, -o pbtxt is TFDV's text format" {
	small_csv
	run_kf -0 analyze schema small.csv
	assert_line 'kind: Schema'
	assert_line '- name: f'
	run_kf -0 analyze schema -o pbtxt small.csv
	assert_line 'feature {'
	assert_line '  name: "s"'
	assert_line '  domain: "s"'
	assert_line '    min_fraction: 1.0'
	assert_line 'string_domain {'
	run_kf -2 analyze schema -o table small.csv
}

@test "schema: each output format reads back and validates its own data clean" {
	small_csv
	for fmt in yaml json pbtxt; do
		kf analyze schema -o $fmt small.csv >schema.$fmt
		run_kf -0 analyze validate --schema schema.$fmt small.csv
		assert_output 'no anomalies'
	done
	kf analyze schema -o pbtxt small.csv >a.pbtxt
	kf analyze schema -o yaml small.csv >b.yaml
	# same content whatever the format it went through
	run_kf -0 analyze validate -o json --schema b.yaml small.csv
}

@test "schema: TFX's own schema files load as they are" {
	[ -f "$TFX/chicago_taxi_user_provided_schema.pbtxt" ] || skip "$TFX not present"
	printf 'payment_type,company,fare\nCash,,1.0\n' >one.csv
	for f in chicago_taxi_user_provided_schema.pbtxt chicago_taxi_inferred_schema_gen_testdata.pbtxt; do
		run_kf analyze validate -o json --schema "$TFX/$f" one.csv
		[ "$status" -eq 1 ]   # a one-row file lacks most columns: anomalies, not a load error
		assert_output --partial '"SCHEMA_MISSING_COLUMN"'
	done
}

@test "schema: the taxi data infers TFDV's presence and domains" {
	need_shared_data chicago-taxi/data.csv
	run_kf -0 analyze schema -o pbtxt "$TAXI"
	echo "$output" >taxi.pbtxt
	# payment_type: always present, 7 values; company: 61 values, sometimes missing
	python3 -c '
import re
t = open("taxi.pbtxt").read()
feats = dict((re.search(r"name: \"([^\"]+)\"", b).group(1), b) for b in t.split("feature {")[1:])
assert "min_fraction: 1.0" in feats["payment_type"] and "domain: \"payment_type\"" in feats["payment_type"]
assert "min_fraction" not in feats["company"] and "min_count: 1" in feats["company"]
assert "type: INT" in feats["trip_seconds"] and "type: FLOAT" in feats["fare"]
dom = re.search(r"string_domain \{\s*name: \"payment_type\"(.*?)\}", t, re.S).group(1)
assert re.findall(r"value: \"([^\"]+)\"", dom) == ["Cash", "Credit Card", "Dispute", "No Charge", "Pcard", "Prcard", "Unknown"]
'
}

@test "schema: a schema file with a syntax error points at the place" {
	printf 'feature {\n  name: "x"\n  type INT\n}\n' >bad.pbtxt
	printf 'x\n1\n' >d.csv
	run_kf -2 analyze validate --schema bad.pbtxt d.csv
	assert_output --partial "bad.pbtxt:3:8: error: expected ':' or '{', found 'I'"
	printf 'feature: [name: x\n' >bad.yaml
	run_kf -2 analyze validate --schema bad.yaml d.csv
	assert_output --partial 'bad.yaml:'
	run_kf -2 analyze validate --schema nope.yaml d.csv
	assert_output --partial 'cannot open "nope.yaml"'
}

@test "schema: --skip-bad-rows infers from the good rows" {
	printf 'a,b\n1,x\n2\n3,y\n' >bad.csv
	run_kf -2 analyze schema bad.csv
	assert_output --partial 'bad.csv:3:1: error: row has 1 field, expected 2'
	kf analyze schema -o json --skip-bad-rows bad.csv >s.json 2>err.txt
	grep -q 'warning: 1 malformed row skipped' err.txt
	[ "$(jpath s.json '[(f["name"], f["type"]) for f in d["feature"]]')" = "[('a', 'INT'), ('b', 'BYTES')]" ]
}
