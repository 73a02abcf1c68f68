#!/usr/bin/env bats
# kf analyze model: every flag, the output formats, comparison, blessing,
# the store record and the bad inputs. Metric values against scikit-learn
# are in t/6502.

load test_helper

F=$FIXTURES/6501
TRIPS=$F/trips.csv

# The models, trained once for the file: a and b are binary logistic
# models on different features, soft a softmax, lin a linear regression,
# mf a recommender (matrix factorisation) trained on ratings_train.csv.
setup_file() {
	M=$BATS_FILE_TMPDIR/models
	export M
	mkdir -p "$M"
	local k=("$KF_BIN" --store "$BATS_FILE_TMPDIR/store")
	"${k[@]}" train -q --model logistic --data "$TRIPS" --label-expr 'tips > 0.2 * fare' \
		--ignore tips,size --out "$M/a" >/dev/null
	"${k[@]}" train -q --model logistic --data "$TRIPS" --label-expr 'tips > 0.2 * fare' \
		--ignore tips,size,payment_type --out "$M/b" >/dev/null
	"${k[@]}" train -q --model softmax --data "$TRIPS" --label size --ignore tips,trip_miles \
		--out "$M/soft" >/dev/null
	"${k[@]}" train -q --model linear --data "$TRIPS" --label fare --ignore tips --out "$M/lin" >/dev/null
	"${k[@]}" train -q --model mf --data "$F/ratings_train.csv" --user user --item item --out "$M/mf" >/dev/null
}

# jpath FILE EXPR: a Python expression on the JSON document d.
jpath() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

slice_names() {
	jpath out.json '"\n".join(s["name"] for s in d["slices"])'
}

@test "model: table of the overall slice with the binary metrics" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS"
	assert_line --index 0 --regexp "^binary evaluation of 600 rows of .*trips.csv, label tips > 0.2 \* fare$"
	assert_line --regexp '^SLICE +N +ACCURACY +PRECISION +RECALL +AUC +AUC_PR +LOG_LOSS +CALIBRATION +MEAN_LABEL +MEAN_PREDICTION$'
	assert_line --regexp '^Overall +600 +0\.[0-9]{4} '
}

@test "model: -o json is a ModelEvaluation with every metric" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" -o json
	echo "$output" >out.json
	[ "$(jpath out.json 'd["kind"]')" = ModelEvaluation ]
	[ "$(jpath out.json 'd["task"]')" = binary ]
	[ "$(jpath out.json 'd["rows"]')" = 600 ]
	[ "$(jpath out.json 'd["models"][0]["role"]')" = candidate ]
	[ "$(jpath out.json 'd["models"][0]["kind"]')" = logistic ]
	[ "$(jpath out.json 'sorted(k for k in d["slices"][0]["metrics"][d["name"]] if k not in ("confusion", "plots"))')" = \
	  "['accuracy', 'auc', 'auc_pr', 'calibration', 'example_count', 'log_loss', 'mean_label', 'mean_prediction', 'precision', 'recall']" ]
	# 175 of the 600 trips tipped more than 20% (pandas: (tips > 0.2 * fare).sum())
	[ "$(jpath out.json 'round(d["slices"][0]["metrics"][d["name"]]["mean_label"] * 600)')" = 175 ]
	[ "$(jpath out.json 'd["slices"][0]["metrics"][d["name"]]["auc"] > 0.8')" = True ]
	# plot data for the overall slice only: ROC from (0,0) to (1,1), 10 calibration bins
	[ "$(jpath out.json '[(p["roc"][0], p["roc"][-1], len(p["calibration"])) for p in [d["slices"][0]["metrics"][d["name"]]["plots"]]][0]')" = "([0, 0], [1, 1], 10)" ]
}

@test "model: -o yaml" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" -o yaml
	assert_line 'kind: ModelEvaluation'
	assert_line --regexp '^ +auc: 0\.[0-9]+$'
}

@test "model: --slice COL makes one slice per value, in numeric order" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --slice trip_start_day -o json
	echo "$output" >out.json
	run slice_names
	assert_output "$(printf 'Overall\n'; for d in 1 2 3 4 5 6 7; do echo "trip_start_day=$d"; done)"
	# the slices partition the rows
	[ "$(jpath out.json 'sum(s["example_count"] for s in d["slices"][1:])')" = 600 ]
	# plot data for the overall slice only
	[ "$(jpath out.json '["plots" in s["metrics"][d["name"]] for s in d["slices"][:2]]')" = "[True, False]" ]
}

@test "model: --slice COL leaves out rows where COL is empty" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --slice payment_type -o json
	echo "$output" >out.json
	[ "$(jpath out.json 'sum(s["example_count"] for s in d["slices"][1:])')" = 588 ]
	[ "$(jpath out.json 'd["slices"][1]["features"]')" = "{'payment_type': 'Cash'}" ]
}

@test "model: --slice COL=VALUE makes one slice, numbers matched as numbers" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --slice trip_start_hour=12.0 -o json
	echo "$output" >out.json
	run slice_names
	assert_output "$(printf 'Overall\ntrip_start_hour=12')"
	[ "$(jpath out.json 'd["slices"][1]["example_count"]')" = \
	  "$(awk -F, 'NR > 1 && $1 == 12' "$TRIPS" | wc -l)" ]
}

@test "model: crossed --slice A,B and A,B=V" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --slice payment_type,trip_start_day \
		--slice trip_start_day,trip_start_hour=12 -o json
	echo "$output" >out.json
	run slice_names
	assert_line 'payment_type=Cash,trip_start_day=1'
	assert_line 'payment_type=Mobile,trip_start_day=7'
	assert_line 'trip_start_day=3,trip_start_hour=12'
	refute_line --regexp 'hour=[^1]'
	[ "$(jpath out.json 'sum(s["example_count"] for s in d["slices"] if "hour=12" in s["name"])')" = \
	  "$(awk -F, 'NR > 1 && $1 == 12' "$TRIPS" | wc -l)" ]
}

@test "model: many slicing specs at once, each row in one slice of each" {
	local args=() c
	for c in trip_start_hour trip_start_day payment_type size trip_start_hour=1 trip_start_day=2 \
		payment_type=Cash size=long trip_start_day,size trip_start_day,payment_type=Mobile; do
		args+=(--slice "$c")
	done
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" "${args[@]}" -o json
	echo "$output" >out.json
	# "size" partitions the rows; "size=long" repeats the long ones
	[ "$(jpath out.json 'sum(s["example_count"] for s in d["slices"] if s["name"].startswith("size="))')" = \
	  $((600 + $(awk -F, '$7 == "long"' "$TRIPS" | wc -l))) ]
	[ "$(jpath out.json 'sum(s["example_count"] for s in d["slices"] if s["name"].startswith("trip_start_day=") and ",size=" in s["name"])')" = 600 ]
}

@test "model: --min-slice-size hides small slices, never the overall one" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --slice trip_start_day,trip_start_hour=12 \
		--min-slice-size 5 -o json
	echo "$output" >out.json
	[ "$(jpath out.json 'all(s["example_count"] >= 5 for s in d["slices"])')" = True ]
	[ "$(jpath out.json 'd["hidden_slices"] > 0')" = True ]
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --slice trip_start_day --min-slice-size 100000 -o json
	echo "$output" >out.json
	run slice_names
	assert_output Overall
}

@test "model: two models side by side with a diff against the first" {
	run_kf -0 analyze model --model "$M/a" --model "$M/b" --data "$TRIPS" --slice trip_start_day
	assert_line --regexp '^models: +\[1\] .*/a \(candidate\) +\[2\] .*/b \(comparison\)$'
	assert_line --regexp '^SLICE +N +AUC\[1\] +AUC\[2\] +dAUC\[2\] +AUC_PR\[1\] +AUC_PR\[2\] +dAUC_PR\[2\] +LOG_LOSS\[1\]'
	run_kf -0 analyze model --model "$M/a" --model "$M/b" --data "$TRIPS" -o json
	echo "$output" >out.json
	[ "$(jpath out.json 'abs(d["slices"][0]["diff"][d["models"][1]["name"]]["auc"] - (d["slices"][0]["metrics"][d["models"][1]["name"]]["auc"] - d["slices"][0]["metrics"][d["models"][0]["name"]]["auc"])) < 1e-12')" = True ]
	[ "$(jpath out.json 'list(d["slices"][0]["diff"])')" = "['$M/b']" ]
}

@test "model: --metrics picks the table columns; an unknown one suggests" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --metrics auc,log_loss
	assert_line --regexp '^SLICE +N +AUC +LOG_LOSS$'
	run_kf -2 analyze model --model "$M/a" --data "$TRIPS" --metrics auc,logloss
	assert_output 'kf: error: --metrics: no binary metric "logloss" (did you mean "log_loss"?)'
}

@test "model: --confusion-at gives confusion counts at each threshold" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --confusion-at 0.3,0.7 -o json
	echo "$output" >out.json
	[ "$(jpath out.json '[c["threshold"] for c in d["slices"][0]["metrics"][d["name"]]["confusion"]]')" = "[0.3, 0.7]" ]
	[ "$(jpath out.json 'sum(d["slices"][0]["metrics"][d["name"]]["confusion"][0][k] for k in ("tp", "fp", "tn", "fn"))')" = 600 ]
	run_kf -2 analyze model --model "$M/a" --data "$TRIPS" --confusion-at 0.3,x
	assert_output 'kf: error: --confusion-at: "x" is not a number'
}

@test "model: --threshold blesses, --bless-to writes BLESSED" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --threshold 'auc>=0.6' --threshold 'log_loss<=2' \
		--bless-to blessing
	assert_line --regexp '^validation of .*/a: BLESSED$'
	assert_line --regexp '^  ok +auc>=0.6$'
	[ -f blessing/BLESSED ] && [ ! -e blessing/NOT_BLESSED ]
}

@test "model: a failed --threshold exits 1 and lists every failed check" {
	run_kf -1 analyze model --model "$M/a" --data "$TRIPS" --threshold 'auc>=0.999' --threshold 'log_loss<=0.001' \
		--threshold 'auc>=0.1' --bless-to blessing
	assert_line --regexp '^validation of .*/a: NOT BLESSED$'
	assert_line --regexp '^  FAIL +auc>=0.999: auc 0\.[0-9]+ is below the lower bound 0.999 \(auc>=0.999\)$'
	assert_line --regexp '^  FAIL +log_loss<=0.001: log_loss 0\.[0-9]+ is above the upper bound 0.001 \(log_loss<=0.001\)$'
	assert_line --regexp '^kf: error: model ".*/a" is not blessed: 2 of 3 checks failed$'
	[ -f blessing/NOT_BLESSED ] && [ ! -e blessing/BLESSED ]
	[ "$(wc -l <blessing/NOT_BLESSED)" = 2 ]
	grep -q '^auc 0\.[0-9]* is below the lower bound 0.999' blessing/NOT_BLESSED
}

@test "model: --threshold and --change on a slice, as TFMA's per-slice thresholds" {
	run_kf -1 analyze model --model "$M/b" --baseline "$M/a" --data "$TRIPS" --slice trip_start_day \
		--threshold 'trip_start_day=3:auc>=0.99' --change 'trip_start_day=3:auc>=-0.01' \
		--threshold 'trip_start_day=9:auc>=0.5' --threshold 'auc>=0.5'
	assert_line --regexp '^  FAIL +trip_start_day=3:auc>=0.99: trip_start_day=3: auc 0\.[0-9]+ is below the lower bound 0.99 \(trip_start_day=3:auc>=0.99\)$'
	assert_line --regexp "^  FAIL +trip_start_day=3:auc>=-0.01: trip_start_day=3: auc changed by -0\.[0-9]+ \(.*\), below -0.01 \(trip_start_day=3:auc>=-0.01\)$"
	assert_line '  FAIL  trip_start_day=9:auc>=0.5: no slice "trip_start_day=9" in the evaluation (trip_start_day=9:auc>=0.5)'
	assert_line '  ok    auc>=0.5'
}

@test "model: --change without --baseline is skipped (the first model)" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --threshold 'auc>=0.5' --change 'auc>=-0.01' -o json
	echo "$output" >out.json
	[ "$(jpath out.json 'd["validation"]["blessed"]')" = True ]
	[ "$(jpath out.json 'd["validation"]["checks"][1]["skipped"]')" = True ]
}

@test "model: --baseline is the reference of diffs and --change" {
	run_kf -1 analyze model --model "$M/b" --baseline "$M/a" --data "$TRIPS" --change 'auc>=-0.01' \
		--change 'log_loss<=1%' --bless-to blessing
	assert_line --regexp '^models: +\[1\] .*/b \(candidate\) +\[2\] .*/a \(baseline\)$'
	assert_line --regexp "^  FAIL +auc>=-0.01: auc changed by -0\.[0-9]+ \(0\.[0-9]+ against the baseline's 0\.[0-9]+\), below -0.01 \(auc>=-0.01\)$"
	assert_line --regexp "^  FAIL +log_loss<=1%: log_loss changed by \+[0-9.]+% \(.*\), above 1% \(log_loss<=1%\)$"
	[ -f blessing/NOT_BLESSED ]
	# the better model passes against the worse one
	run_kf -0 analyze model --model "$M/a" --baseline "$M/b" --data "$TRIPS" --change 'auc>=0' -o json
	echo "$output" >out.json
	[ "$(jpath out.json 'list(d["slices"][0]["diff"])')" = "['$M/a']" ]
	[ "$(jpath out.json 'd["validation"]["checks"][0]["change"] > 0')" = True ]
}

@test "model: --change must agree with the metric's direction" {
	run_kf -2 analyze model --model "$M/a" --baseline "$M/b" --data "$TRIPS" --change 'log_loss>=-0.1'
	assert_output "kf: error: change \"log_loss>=-0.1\": log_loss is lower-is-better, write 'log_loss<=-0.1'"
	run_kf -2 analyze model --model "$M/a" --data "$TRIPS" --threshold 'acc>=0.5'
	assert_output 'kf: error: --threshold "acc>=0.5": no binary metric "acc" (did you mean "auc"?)'
	run_kf -2 analyze model --model "$M/a" --data "$TRIPS" --threshold 'auc>0.5'
	assert_output 'kf: error: threshold "auc>0.5": expected [SLICE:]METRIC>=X or [SLICE:]METRIC<=X'
	run_kf -2 analyze model --model "$M/a" --data "$TRIPS" --bless-to blessing
	assert_output 'kf: error: --bless-to needs --threshold or --change checks'
}

@test "model: --label and --label-expr override the model's label" {
	awk -F, 'BEGIN { OFS = "," } NR == 1 { print $0, "tipped" } NR > 1 { print $0, ($6 > 0.2 * $5) ? 1 : 0 }' \
		"$TRIPS" >labelled.csv
	run_kf -0 analyze model --model "$M/a" --data labelled.csv -o json
	echo "$output" >model.json
	run_kf -0 analyze model --model "$M/a" --data labelled.csv --label tipped -o json
	echo "$output" >col.json
	[ "$(jpath col.json 'd["label"]')" = tipped ]
	[ "$(jpath col.json 'd["slices"][0]["metrics"][d["name"]]')" = "$(jpath model.json 'd["slices"][0]["metrics"][d["name"]]')" ]
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --label-expr 'tips > 0.1 * fare' -o json
	echo "$output" >expr.json
	[ "$(jpath expr.json 'd["label"]')" = 'tips > 0.1 * fare' ]
	[ "$(jpath expr.json 'd["slices"][0]["metrics"][d["name"]]["mean_label"] > 175 / 600')" = True ]
	run_kf -2 analyze model --model "$M/a" --data "$TRIPS" --label tipped --label-expr 'tips > 0'
	assert_output 'kf: error: give --label or --label-expr, not both'
}

@test "model: --predictions with --data, row by row, equals the model itself" {
	kf train predict --model-dir "$M/a" --data "$TRIPS" >pred.csv
	col=probability
	run_kf -0 analyze model --predictions pred.csv --prediction-column "$col" --data "$TRIPS" \
		--label-expr 'tips > 0.2 * fare' --slice trip_start_day -o json
	echo "$output" >p.json
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --slice trip_start_day -o json
	echo "$output" >m.json
	[ "$(jpath p.json 'd["models"][0]["kind"]')" = predictions ]
	[ "$(jpath p.json '[round(s["metrics"][d["name"]]["auc"], 9) for s in d["slices"]]')" = \
	  "$(jpath m.json '[round(s["metrics"][d["name"]]["auc"], 9) for s in d["slices"]]')" ]
}

@test "model: --predictions alone holds labels, scores and slice columns; --task regression" {
	printf 'g,y,p\na,1,0.9\na,0,0.2\nb,1,0.4\nb,0,0.6\nb,1,0.6\n' >p.csv
	run_kf -0 analyze model --predictions p.csv --prediction-column p --label y --slice g -o json
	echo "$output" >out.json
	[ "$(jpath out.json '[s["metrics"]["p.csv"]["auc"] for s in d["slices"]]')" = "[0.75, 1, 0.25]" ]
	run_kf -0 analyze model --predictions p.csv --prediction-column p --label y --task regression -o json
	echo "$output" >out.json
	[ "$(jpath out.json 'round(d["slices"][0]["metrics"]["p.csv"]["mse"], 12)')" = 0.186 ]
	run_kf -2 analyze model --predictions p.csv --label y
	assert_output 'kf: error: --predictions needs --prediction-column'
	run_kf -2 analyze model --predictions p.csv --prediction-column p --label y --task ranking
	assert_output 'kf: error: --task: "ranking" is not binary, multiclass or regression'
}

@test "model: multiclass (softmax) with per-class precision and recall" {
	run_kf -0 analyze model --model "$M/soft" --data "$TRIPS" -o json
	echo "$output" >out.json
	[ "$(jpath out.json 'd["task"]')" = multiclass ]
	[ "$(jpath out.json '[c["class"] for c in d["slices"][0]["metrics"][d["name"]]["per_class"]]')" = \
	  "['long', 'medium', 'short']" ]
	[ "$(jpath out.json 'sum(c["count"] for c in d["slices"][0]["metrics"][d["name"]]["per_class"])')" = 600 ]
	run_kf -0 analyze model --model "$M/soft" --data "$TRIPS"
	assert_line --regexp '^SLICE +N +ACCURACY +PRECISION +RECALL +LOG_LOSS$'
}

@test "model: regression (linear)" {
	run_kf -0 analyze model --model "$M/lin" --data "$TRIPS" --slice payment_type
	assert_line --regexp '^SLICE +N +MSE +RMSE +MAE +R2 +MEAN_LABEL +MEAN_PREDICTION$'
	assert_line --regexp '^payment_type=Mobile +[0-9]+ '
}

@test "model: a recommender's precision@K, recall@K and ndcg@K on held-out rows, sliced" {
	run_kf -0 analyze model --model "$M/mf" --data "$F/ratings_test.csv" --slice segment
	assert_line --index 0 --regexp '^recommend evaluation of 120 rows of .*ratings_test.csv, label item$'
	assert_line --regexp '^SLICE +N +EXAMPLE_COUNT +PRECISION@1 +PRECISION@5 +PRECISION@10 +RECALL@1 +RECALL@5 +RECALL@10 +NDCG@1 +NDCG@5 +NDCG@10$'
	assert_line --regexp '^Overall +120 +40 '
	assert_line --regexp '^segment=new +36 +12 '
	run_kf -1 analyze model --model "$M/mf" --data "$F/ratings_test.csv" --threshold 'ndcg@10>=0.99'
	assert_line --regexp '^  FAIL +ndcg@10>=0.99: ndcg@10 0\.[0-9]+ is below the lower bound 0.99 \(ndcg@10>=0.99\)$'
	run_kf -2 analyze model --model "$M/mf" --data "$F/ratings_test.csv" --label item
	assert_output 'kf: error: --label: a recommender is evaluated on the (user, item) rows of the data'
}

@test "model: -o html is one self-contained page with curves, charts and a sortable table" {
	run_kf -1 analyze model --model "$M/a" --model "$M/b" --data "$TRIPS" --slice trip_start_day \
		--threshold 'auc>=0.999' -o html
	echo "$output" | grep -v '^kf: error: model .* is not blessed' >report.html
	grep -q '^<!DOCTYPE html>' report.html
	grep -q 'ROC curve' report.html
	grep -q 'Precision-recall curve' report.html
	grep -q 'Calibration' report.html
	grep -q '<table class="sortable">' report.html
	grep -q "querySelectorAll('table.sortable th')" report.html
	grep -q 'NOT BLESSED' report.html
	# both models overlaid: a polyline each on the ROC and PR plots
	[ "$(grep -o '<polyline' report.html | wc -l)" = 4 ]
	# nothing fetched from elsewhere
	run grep -E '(src|href)=' report.html
	assert_failure
}

@test "model: the evaluation is recorded in the store with its inputs and outputs" {
	run_kf -0 analyze model --model "$M/a" --data "$TRIPS" --threshold 'auc>=0.5' --bless-to blessing -o json
	run python3 - "$KF_STORE/kf.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
ex = c.execute("select e.id from Execution e join Type t on t.id = e.type_id where t.name = 'kf.AnalyzeModel'").fetchall()
print("executions", len(ex))
for r in c.execute("""select ev.type, t.name from Event ev join Artifact a on a.id = ev.artifact_id
                      join Type t on t.id = a.type_id where ev.execution_id = ? order by ev.type, t.name""", ex[0]):
    print(*r)
EOF
	assert_output "$(printf 'executions 1\n3 Dataset\n3 Model\n4 Metrics\n4 ModelBlessing')"
	run python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute("select c.name from Context c join Association a on a.context_id = c.id").fetchall())' "$KF_STORE/kf.db"
	assert_output "[('trips.csv',)]"
}

@test "model: --data - reads standard input" {
	run_kf -0 analyze model --model "$M/a" --data - --metrics auc -o json <"$TRIPS"
	echo "$output" >out.json
	[ "$(jpath out.json 'd["rows"]')" = 600 ]
	[ "$(jpath out.json 'd["data"]')" = stdin ]
}

@test "model: bad inputs are clear errors (exit 2)" {
	run_kf -2 analyze model --model "$M/a" --data "$TRIPS" --label tip
	assert_output --regexp '^kf: error: label "tip" is not a column of ".*trips.csv" \(did you mean "tips"\?\)$'
	run_kf -2 analyze model --model "$M/a" --model "$M/mf" --data "$TRIPS"
	assert_output --regexp '^kf: error: model ".*/mf" is a recommend model, not binary$'
	run_kf -2 analyze model --model "$M/mf" --data "$TRIPS"
	assert_output --regexp '^kf: error: user column "user" is not a column of ".*trips.csv"$'
	run_kf -2 analyze model --model "$M/a" --model "$M/lin" --data "$TRIPS"
	assert_output --regexp '^kf: error: model ".*/lin" is a regression model, not binary$'
	mkdir empty
	run_kf -2 analyze model --model empty --data "$TRIPS"
	assert_output 'kf: error: "empty" is not a model bundle (no kf-model.json)'
	run_kf -2 analyze model --model "$M/a" --data "$TRIPS" --slice trip_start_hour=99
	assert_output --regexp '^kf: error: slice "trip_start_hour=99" matched no rows of ".*trips.csv"$'
	run_kf -2 analyze model --model "$M/a" --data "$TRIPS" --slice trip_start_hours
	assert_output 'kf: error: slice "trip_start_hours": no column "trip_start_hours" in the data (did you mean "trip_start_hour"?)'
	run_kf -2 analyze model --model "$M/a" --data "$TRIPS" --label fare
	assert_output --regexp '^.*trips.csv:2:[0-9]+: error: label "[0-9.]+" is not 0 or 1 \(use --label-expr to derive one\)$'
	run_kf -2 analyze model --model "$M/a" --data "$TRIPS" --min-slice-size -1
	assert_output 'kf: error: --min-slice-size: "-1" is not a count'
	run_kf -2 analyze model --data "$TRIPS"
	assert_output 'kf: error: give --model DIR (or --predictions CSV)'
}

@test "model: bad predictions files (exit 2)" {
	printf 'y,p\n1,0.9\n0,abc\n' >bad.csv
	run_kf -2 analyze model --predictions bad.csv --prediction-column p --label y
	assert_output --regexp '^bad.csv:3:[0-9]+: error: score "abc" in column "p" is not a number$'
	printf 'p\n0.5\n' >short.csv
	run_kf -2 analyze model --predictions short.csv --prediction-column p --data "$TRIPS" --label-expr 'tips > 0'
	assert_output --regexp '^kf: error: "short.csv" has fewer rows than ".*trips.csv"$'
	run_kf -2 analyze model --predictions bad.csv --prediction-column pp --label y
	assert_output 'kf: error: prediction column "pp" is not a column of "bad.csv" (did you mean "p"?)'
	printf 'y,p\n' >empty.csv
	run_kf -2 analyze model --predictions empty.csv --prediction-column p --label y
	assert_output 'kf: error: "empty.csv": no rows to evaluate'
}
