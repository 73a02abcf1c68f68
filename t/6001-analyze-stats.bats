#!/usr/bin/env bats
# kf analyze stats: formats, inputs (CSV, gzip, JSON Lines, stdin), slices,
# hostile CSVs, and the taxi data against figures computed independently.

load test_helper

TAXI=$SHARED/data/chicago-taxi/data.csv

# A python3 that has pandas, or nothing.
pandas_python() {
	local py
	for py in python3 /usr/bin/python3; do
		if command -v "$py" >/dev/null && "$py" -c 'import pandas' 2>/dev/null; then
			echo "$py"
			return
		fi
	done
}

# jpath FILE EXPR: evaluate a Python expression on the JSON document d.
jpath() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

small_csv() {
	printf 'x,s,b\n1,red,true\n2,blue,false\n0,red,true\n,"g,reen",\n' >small.csv
}

@test "stats: table with one row per feature" {
	small_csv
	run_kf -0 analyze stats small.csv
	assert_line --regexp '^FEATURE +TYPE +COUNT +MISSING +MEAN'
	assert_line --regexp '^x +INT +3 +1 +1 +0.816497 +1 +0 +1 +2 '
	assert_line --regexp '^s +STRING +4 +0 +3 +red \(2\) +4$'
	assert_line --regexp '^b +BOOL +3 +1 .* 2 +true \(2\)'
}

@test "stats: -o json is a DatasetStatisticsList with exact counts" {
	small_csv
	run_kf -0 analyze stats -o json small.csv
	echo "$output" >out.json
	[ "$(jpath out.json 'd["kind"]')" = DatasetStatisticsList ]
	[ "$(jpath out.json 'd["items"][0]["numExamples"]')" = 4 ]
	[ "$(jpath out.json '[f["missing"] for f in d["items"][0]["features"]]')" = "[1, 0, 1]" ]
	[ "$(jpath out.json 'd["items"][0]["features"][0]["numStats"]["zeros"]')" = 1 ]
	[ "$(jpath out.json 'd["items"][0]["features"][1]["stringStats"]["topValues"][0]')" = "{'value': 'red', 'frequency': 2}" ]
	[ "$(jpath out.json 'len(d["items"][0]["features"][0]["numStats"]["histogram"])')" = 10 ]
}

@test "stats: -o yaml" {
	small_csv
	run_kf -0 analyze stats -o yaml small.csv
	assert_line 'kind: DatasetStatisticsList'
	assert_line --partial 'numExamples: 4'
}

@test "stats: -o html is one self-contained page with a chart per feature" {
	small_csv
	run_kf -0 analyze stats -o html small.csv
	echo "$output" >r.html
	grep -q '^<!DOCTYPE html>' r.html
	[ "$(grep -o '<svg' r.html | wc -l)" -ge 6 ]   # 3 charts + 3 missing bars
	! grep -qiE '<script|<link|src=' r.html
	grep -q 'g,reen' r.html
}

@test "stats: an unknown -o format is bad usage" {
	small_csv
	run_kf -2 analyze stats -o pbtxt small.csv
	assert_output --partial 'pbtxt'
}

@test "stats: --slice gives one dataset per value" {
	small_csv
	run_kf -0 analyze stats --slice s -o json small.csv
	echo "$output" >out.json
	[ "$(jpath out.json '[i["name"] for i in d["items"]]')" = "['all', 's=red', 's=blue', 's=g,reen']" ]
	[ "$(jpath out.json 'd["items"][1]["numExamples"]')" = 2 ]
	run_kf -0 analyze stats --slice s small.csv
	assert_line 's=red (2 examples)'
	run_kf -2 analyze stats --slice nope small.csv
	assert_output --partial 'no column "nope" to slice by'
}

@test "stats: gzip, stdin, JSON Lines and several inputs" {
	small_csv
	gzip -c small.csv >small.csv.gz
	run_kf -0 analyze stats -o json small.csv.gz
	echo "$output" >gz.json
	[ "$(jpath gz.json 'd["items"][0]["numExamples"]')" = 4 ]
	run bash -c "cat small.csv.gz | '$KF_BIN' analyze stats -o json -"
	[ "$status" -eq 0 ]
	echo "$output" >stdin.json
	[ "$(jpath stdin.json 'd["items"][0]["features"][1]["stringStats"]["unique"]')" = 3 ]
	printf '{"x": 5, "s": "red"}\n{"x": null, "t": true}\n' >more.jsonl
	run_kf -0 analyze stats -o json small.csv more.jsonl
	echo "$output" >two.json
	[ "$(jpath two.json 'd["items"][0]["numExamples"]')" = 6 ]
	[ "$(jpath two.json '[(f["name"], f["count"]) for f in d["items"][0]["features"]]')" = "[('x', 4), ('s', 5), ('b', 3), ('t', 1)]" ]
}

@test "stats: a missing file exits 2 naming it" {
	run_kf -2 analyze stats nope.csv
	assert_output --partial 'cannot open "nope.csv"'
}

@test "hostile: unterminated quote is an error at its line, or skipped and counted" {
	printf 'a,b\n1,2\n3,"open\n4,5\n' >bad.csv
	run_kf -2 analyze stats bad.csv
	assert_output --partial 'bad.csv:3:1: error: unterminated quoted field'
	kf analyze stats --skip-bad-rows -o json bad.csv >out.json 2>err.txt
	[ "$(jpath out.json 'd["badRows"], d["firstBadRow"], d["items"][0]["numExamples"]')" = "(1, 'bad.csv:3: unterminated quoted field', 1)" ]
	grep -q 'warning: 1 malformed row skipped; the first: bad.csv:3: unterminated quoted field' err.txt
}

@test "hostile: ragged rows are an error, or skipped with --skip-bad-rows" {
	printf 'a,b\n1,2\n3\n4,5,6\n7,8\n' >ragged.csv
	run_kf -2 analyze stats ragged.csv
	assert_output --partial 'ragged.csv:3:1: error: row has 1 field, expected 2'
	kf analyze stats --skip-bad-rows -o json ragged.csv >out.json 2>/dev/null
	[ "$(jpath out.json 'd["badRows"]')" = 2 ]
	[ "$(jpath out.json 'd["items"][0]["numExamples"]')" = 2 ]
	[ "$(jpath out.json 'd["items"][0]["features"][0]["numStats"]["max"]')" = 7 ]
	run_kf -0 analyze stats --skip-bad-rows ragged.csv
	assert_output --partial 'warning: 2 malformed rows skipped; the first: ragged.csv:3: row has 1 field, expected 2'
}

@test "hostile: NUL bytes inside a field" {
	printf 'a,b\nx\0y,1\nz,2\n' >nul.csv
	run_kf -0 analyze stats -o json nul.csv
	echo "$output" >out.json
	[ "$(jpath out.json 'd["items"][0]["features"][0]["stringStats"]["unique"]')" = 2 ]
	[ "$(jpath out.json 'd["items"][0]["features"][0]["stringStats"]["avgLength"]')" = 2 ]
}

@test "hostile: a 1 MB field" {
	{ printf 'a,b\n"'; head -c 1048576 /dev/zero | tr '\0' 'x'; printf '",1\nshort,2\n'; } >big.csv
	run_kf -0 analyze stats -o json big.csv
	echo "$output" >out.json
	[ "$(jpath out.json 'd["items"][0]["features"][0]["stringStats"]["avgLength"]')" = 524290.5 ]
	[ "$(jpath out.json 'd["items"][0]["features"][1]["numStats"]["max"]')" = 2 ]
}

@test "hostile: empty file and header only" {
	: >empty.csv
	run_kf -2 analyze stats empty.csv
	assert_output --partial 'empty.csv:1:1: error: no header row (empty input)'
	printf 'a,b\n' >header.csv
	run_kf -0 analyze stats -o json header.csv
	echo "$output" >out.json
	[ "$(jpath out.json 'd["items"][0]["numExamples"]')" = 0 ]
	[ "$(jpath out.json '[(f["name"], f["type"], f["count"]) for f in d["items"][0]["features"]]')" = "[('a', 'NONE', 0), ('b', 'NONE', 0)]" ]
}

@test "hostile: CRLF, BOM and quoted newlines" {
	printf '\xef\xbb\xbfa,b\r\n"x\r\ny",1\r\n"q""q",2\r\n' >crlf.csv
	run_kf -0 analyze stats -o json crlf.csv
	echo "$output" >out.json
	[ "$(jpath out.json 'd["items"][0]["features"][0]["name"]')" = a ]
	[ "$(jpath out.json 'sorted(v["value"] for v in d["items"][0]["features"][0]["stringStats"]["topValues"])')" = "['q\"q', 'x\\r\\ny']" ]
}

@test "taxi: count, missing, min, max and mean exactly as pandas reports" {
	need_shared_data chicago-taxi/data.csv
	local py
	run_kf -0 analyze stats -o json "$TAXI"
	echo "$output" >taxi.json
	py=$(pandas_python)
	if [ -n "$py" ]; then
		# recompute with pandas now
		"$py" -c '
import pandas, sys
df = pandas.read_csv(sys.argv[1])
for c in df.columns:
    s = df[c]
    if s.dtype.kind in "if":
        print("\t".join([c, str(s.count()), str(s.isna().sum()), repr(float(s.min())), repr(float(s.max())), repr(float(s.mean()))]))
    else:
        print("\t".join([c, str(s.count()), str(s.isna().sum()), "-", "-", "-"]))
' "$TAXI" >expected.tsv
	else
		grep -v '^#' "$FIXTURES/6001/taxi-pandas.tsv" >expected.tsv
	fi
	python3 -c '
import json, sys
d = json.load(open("taxi.json"))["items"][0]
feats = {f["name"]: f for f in d["features"]}
bad = 0
for line in open("expected.tsv"):
    c, count, missing, mn, mx, mean = line.rstrip("\n").split("\t")
    f = feats[c]
    if f["count"] != int(count) or f["missing"] != int(missing):
        print("count/missing", c, f["count"], f["missing"], count, missing); bad += 1
    if mn == "-":
        continue
    n = f["numStats"]
    for k, want in (("min", float(mn)), ("max", float(mx)), ("mean", float(mean))):
        if abs(n[k] - want) > 1e-9 * max(1.0, abs(want)):
            print(c, k, n[k], want); bad += 1
print("mismatches:", bad)
sys.exit(1 if bad else 0)
'
}

@test "taxi: quantiles within the sketch's stated rank error" {
	need_shared_data chicago-taxi/data.csv
	run_kf -0 analyze stats -o json "$TAXI"
	echo "$output" >taxi.json
	python3 -c '
import csv, json, sys
d = json.load(open("taxi.json"))["items"][0]
cols = {}
with open(sys.argv[1]) as f:
    for row in csv.DictReader(f):
        for k, v in row.items():
            if v != "":
                cols.setdefault(k, []).append(v)
bad = 0
for f in d["features"]:
    if "numStats" not in f:
        continue
    vals = sorted(float(v) for v in cols[f["name"]])
    n, e = len(vals), f["numStats"]["rankErrorBound"]
    # the bound the man page states: n * (floor(log2(n / 4096)) + 1) / 4096
    levels = 0
    m = n // 4096
    while m >= 1:
        levels += 1; m //= 2
    if e > n * (levels + 1) / 4096:
        print("bound", f["name"], e); bad += 1
    qs = f["numStats"]["quantiles"] + [{"q": 0.5, "value": f["numStats"]["median"]}]
    for q in qs:
        less = sum(1 for v in vals if v < q["value"])
        le = sum(1 for v in vals if v <= q["value"])
        t = q["q"] * n
        if le < t - e - 1 or less > t + e + 1:
            print(f["name"], q, less, le, t, e); bad += 1
sys.exit(1 if bad else 0)
' "$TAXI"
}

@test "taxi: payment_type top values as the README counts them, value set as TFDV's" {
	need_shared_data chicago-taxi/data.csv
	run_kf -0 analyze stats -o json "$TAXI"
	echo "$output" >taxi.json
	[ "$(jpath taxi.json '[(v["value"], v["frequency"]) for f in d["items"][0]["features"] if f["name"] == "payment_type" for v in f["stringStats"]["topValues"]]')" = \
	  "[('Cash', 9909), ('Credit Card', 4975), ('No Charge', 81), ('Unknown', 29), ('Dispute', 4), ('Pcard', 3), ('Prcard', 1)]" ]
	# TFDV's statistics of its own 10036-example sample (a different sample):
	# the same values and the same order for the four most common; its sample
	# lacks the one-off Prcard
	local tfdv_stats=$SHARED/anchors/tfx/chicago_taxi_statistics_train.decoded.pbtxt
	[ -f "$tfdv_stats" ] || skip "$tfdv_stats not present"
	python3 -c '
import json, re, sys
text = open(sys.argv[1]).read()
block = [b for b in text.split("\n  features {") if "step: \"payment_type\"" in b][0]
tfdv = re.findall(r"top_values \{\s*value: \"([^\"]*)\"", block)
d = json.load(open("taxi.json"))["items"][0]
ours = [v["value"] for f in d["features"] if f["name"] == "payment_type" for v in f["stringStats"]["topValues"]]
print("tfdv:", tfdv, "kf:", ours)
assert tfdv[:4] == ours[:4] == ["Cash", "Credit Card", "No Charge", "Unknown"]
assert set(tfdv) <= set(ours) and set(ours) - set(tfdv) == {"Prcard"}
' "$tfdv_stats"
}

@test "analyze: no subcommand, a typo, no data: usage errors" {
	run_kf -2 analyze
	assert_output --partial 'usage: kf analyze stats|schema|validate|drift|model ...'
	run_kf -2 analyze stat x.csv
	assert_output --partial 'unknown command "analyze stat" (did you mean "analyze stats"?)'
	run_kf -2 analyze stats
	assert_output --partial '"kf analyze stats" needs an argument'
}
