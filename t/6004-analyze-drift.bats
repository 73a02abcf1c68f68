#!/usr/bin/env bats
# kf analyze drift: L-infinity for categorical features, Jensen-Shannon
# divergence for numeric ones, thresholds and exit status.

load test_helper

TAXI=$SHARED/data/chicago-taxi/data.csv

jpath() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

two_csvs() {
	printf 'pay,x\nCash,1\nCash,2\nCard,3\nCash,4\n' >base.csv
	printf 'pay,x\nCash,5\nCard,6\nCard,7\nCard,8\n' >cur.csv
}

@test "drift: a dataset does not drift from itself" {
	two_csvs
	run_kf -0 analyze drift -o json --threshold 0 base.csv base.csv
	echo "$output" >d.json
	[ "$(jpath d.json '[(i["name"], i["measure"], i["distance"], i["drifted"]) for i in d["items"]]')" = \
	  "[('pay', 'L_INFINITY', 0, False), ('x', 'JENSEN_SHANNON_DIVERGENCE', 0, False)]" ]
}

@test "drift: L-infinity is the largest change in one value's share" {
	two_csvs
	run_kf -0 analyze drift -o json base.csv cur.csv
	echo "$output" >d.json
	# Cash 3/4 -> 1/4, Card 1/4 -> 3/4: 0.5
	[ "$(jpath d.json 'd["items"][0]["distance"]')" = 0.5 ]
	[ "$(jpath d.json 'd["kind"], d["baseline"], d["name"]')" = "('DriftList', 'base.csv', 'cur.csv')" ]
}

@test "drift: Jensen-Shannon divergence of disjoint numbers is 1" {
	printf 'x\n1\n2\n3\n4\n' >a.csv
	printf 'x\n10\n20\n30\n40\n' >b.csv
	run_kf -0 analyze drift -o json a.csv b.csv
	echo "$output" >d.json
	[ "$(jpath d.json 'd["items"][0]["distance"]')" = 1 ]
}

@test "drift: --threshold per column and for every column, exit 1 above" {
	two_csvs
	run_kf -1 analyze drift --threshold pay=0.4 base.csv cur.csv
	assert_line --regexp '^pay +L_INFINITY +0.5 +0.4 +true$'
	assert_output --partial 'kf: error: 1 feature drifted above the threshold'
	run_kf -0 analyze drift --threshold pay=0.6 base.csv cur.csv
	run_kf -0 analyze drift -t pay=0.6 -t 1 base.csv cur.csv
	run_kf -1 analyze drift -o json -t 0.01 base.csv cur.csv
	assert_output --partial '"anomaly":	"COMPARATOR_L_INFTY_HIGH"'
	assert_output --partial '"anomaly":	"COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"'
	run_kf -2 analyze drift --threshold pay=lots base.csv cur.csv
	assert_output --partial '--threshold: "pay=lots" is not [COL=]NUMBER'
}

@test "drift: -o yaml and -o html" {
	two_csvs
	run_kf -0 analyze drift -o yaml base.csv cur.csv
	assert_line 'kind: DriftList'
	kf analyze drift -o html -t pay=0.1 base.csv cur.csv >r.html 2>/dev/null || [ $? -eq 1 ]
	grep -q '1 feature drifted above the threshold' r.html
	grep -q '<tr class="bad"><td>pay</td>' r.html
	! grep -qiE '<script|<link|src=' r.html
}

@test "drift: --skip-bad-rows and a missing input" {
	two_csvs
	printf 'pay,x\nCash,1\nCash\n' >bad.csv
	run_kf -2 analyze drift base.csv bad.csv
	assert_output --partial 'bad.csv:3:1: error: row has 1 field, expected 2'
	run_kf -0 analyze drift --skip-bad-rows base.csv bad.csv
	run_kf -2 analyze drift base.csv nope.csv
	run_kf -2 analyze drift base.csv
}

@test "taxi: the first and second halves of the taxi data, and a shifted copy" {
	need_shared_data chicago-taxi/data.csv
	{ head -1 "$TAXI"; sed -n '2,7501p' "$TAXI"; } >first.csv
	{ head -1 "$TAXI"; sed -n '7502,$p' "$TAXI"; } >second.csv
	# the file is not shuffled: pickup places differ between its halves, the
	# payment types and fares hardly
	run_kf -0 analyze drift -o json -t payment_type=0.05 -t fare=0.05 first.csv second.csv
	# fares doubled: a clear numeric drift
	awk -F, -v OFS=, 'NR > 1 { $2 = $2 * 2 } { print }' second.csv >shifted.csv
	rc=0
	kf analyze drift -o json -t fare=0.1 first.csv shifted.csv >s.json 2>/dev/null || rc=$?
	[ "$rc" = 1 ]
	[ "$(jpath s.json '[i["name"] for i in d["items"] if i["drifted"]]')" = "['fare']" ]
	python3 -c '
import json
d = json.load(open("s.json"))
fare = [i for i in d["items"] if i["name"] == "fare"][0]
assert fare["distance"] > 0.1, fare
'
}

@test "drift: --schema takes TFDV's drift_comparator thresholds; the command line wins" {
	two_csvs
	cat >s.pbtxt <<'PB'
feature { name: "pay" type: BYTES drift_comparator { infinity_norm { threshold: 0.4 } } }
feature { name: "x" type: INT drift_comparator { jensen_shannon_divergence { threshold: 0.99 } } }
PB
	run_kf -1 analyze drift --schema s.pbtxt base.csv cur.csv
	assert_line --regexp '^pay +L_INFINITY +0.5 +0.4 +true$'
	assert_line --regexp '^x +JENSEN_SHANNON_DIVERGENCE +1 +0.99 +true$'
	run_kf -1 analyze drift --schema s.pbtxt -t pay=0.6 base.csv cur.csv
	assert_line --regexp '^pay +L_INFINITY +0.5 +0.6 +false$'
	run_kf -0 analyze drift --schema s.pbtxt -t pay=0.6 -t x=1 -t 0 base.csv cur.csv
	run_kf -2 analyze drift --schema nope.pbtxt base.csv cur.csv
}
