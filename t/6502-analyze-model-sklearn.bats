#!/usr/bin/env bats
# kf analyze model against scikit-learn and pandas: every metric of every
# slice, on random labels and scores with many ties, agrees to 1e-9.
# Runs when python3-sklearn and python3-pandas are installed.

load test_helper

CHECK=$FIXTURES/6501/sklearn_check.py
SPECS=(day day,hour=12 pay hour,day)

need_sklearn() {
	local py
	for py in python3 /usr/bin/python3; do
		if command -v "$py" >/dev/null && "$py" -c 'import sklearn, pandas' 2>/dev/null; then
			PY=$py
			return
		fi
	done
	skip "needs python3-sklearn and python3-pandas"
}

# agree TASK SEED PREDICTION-FLAGS...: generate, evaluate, compare.
agree() {
	local task=$1 seed=$2 s args=()
	shift 2
	for s in "${SPECS[@]}"; do args+=(--slice "$s"); done
	"$PY" "$CHECK" gen "$task" data.csv "$seed"
	run_kf -0 analyze model --predictions data.csv --label label "$@" "${args[@]}" -o json
	echo "$output" >out.json
	run "$PY" "$CHECK" check "$task" data.csv out.json "${SPECS[@]}"
	echo "$output"
	assert_success
	assert_output --regexp 'compared [0-9]+ values over [0-9]+ slices, 0 differences'
}

@test "sklearn: binary metrics of every slice agree (seed 1)" {
	need_sklearn
	agree binary 1 --prediction-column score
}

@test "sklearn: binary metrics of every slice agree (seed 2)" {
	need_sklearn
	agree binary 2 --prediction-column score
}

@test "sklearn: multiclass metrics of every slice agree" {
	need_sklearn
	agree multiclass 3 --prediction-column p0 --prediction-column p1 --prediction-column p2
}

@test "sklearn: regression metrics of every slice agree" {
	need_sklearn
	agree regression 4 --prediction-column pred --task regression
}

@test "sklearn: a model bundle's metrics agree with sklearn on its own predictions" {
	need_sklearn
	local trips=$FIXTURES/6501/trips.csv
	kf --store "$KF_STORE" train -q --model logistic --data "$trips" --label-expr 'tips > 0.2 * fare' \
		--ignore tips,size --out m >/dev/null
	kf train predict --model-dir m --data "$trips" >pred.csv
	run_kf -0 analyze model --model m --data "$trips" --slice trip_start_day -o json
	echo "$output" >out.json
	run "$PY" - "$trips" pred.csv out.json <<'PYEOF'
import json, sys
import pandas as pd
from sklearn import metrics as skm
df = pd.read_csv(sys.argv[1])
pred = pd.read_csv(sys.argv[2])
col = "probability"
df["score"], df["y"] = pred[col], (df.tips > 0.2 * df.fare).astype(int)
doc = json.load(open(sys.argv[3]))
got = {s["name"]: s["metrics"]["m"] for s in doc["slices"]}
want = [("Overall", df)] + [("trip_start_day=%d" % k, g) for k, g in df.groupby("trip_start_day")]
bad = 0
for name, g in want:
    for k, v in (("auc", skm.roc_auc_score(g.y, g.score)),
                 ("auc_pr", skm.average_precision_score(g.y, g.score)),
                 ("log_loss", skm.log_loss(g.y, g.score, labels=[0, 1]))):
        if abs(got[name][k] - v) > 1e-9:
            print(name, k, got[name][k], v)
            bad += 1
print("differences", bad, "slices", len(want))
PYEOF
	echo "$output"
	assert_output 'differences 0 slices 8'
}

@test "sklearn: a recommender's ndcg@K agrees with ndcg_score, precision@K and recall@K with pandas" {
	need_sklearn
	local f=$FIXTURES/6501
	kf --store "$KF_STORE" train -q --model mf --data "$f/ratings_train.csv" --user user --item item \
		--out mf >/dev/null
	kf train predict --model-dir mf --data "$f/ratings_test.csv" >top.csv
	run_kf -0 analyze model --model mf --data "$f/ratings_test.csv" --slice segment -o json
	echo "$output" >out.json
	run "$PY" - "$f/ratings_test.csv" top.csv out.json <<'PYEOF'
import json, sys
import numpy as np
import pandas as pd
from sklearn.metrics import ndcg_score
test = pd.read_csv(sys.argv[1])
top = pd.read_csv(sys.argv[2]).drop_duplicates(["user", "rank"])
doc = json.load(open(sys.argv[3]))
got = {s["name"]: s["metrics"]["mf"] for s in doc["slices"]}
want = [("Overall", test)] + [("segment=%s" % k, g) for k, g in test.groupby("segment")]
bad = 0
for name, g in want:
    sums, users = {}, 0
    for user, rows in g.groupby("user"):
        rel = set(rows["item"])
        rec = list(top[top.user == user].sort_values("rank")["item"])
        cand = rec + sorted(rel - set(rec))
        y_true = np.array([[1.0 if c in rel else 0.0 for c in cand]])
        y_score = np.array([[float(len(rec) - i) if i < len(rec) else 0.0 for i in range(len(cand))]])
        users += 1
        for k in (1, 5, 10):
            hits = sum(1 for c in rec[:k] if c in rel)
            for m, v in (("precision@%d" % k, hits / k), ("recall@%d" % k, hits / len(rel)),
                         ("ndcg@%d" % k, ndcg_score(y_true, y_score, k=k))):
                sums[m] = sums.get(m, 0) + v
    if got[name]["example_count"] != users:
        print(name, "users", got[name]["example_count"], users)
        bad += 1
    for m, v in sums.items():
        if abs(got[name][m] - v / users) > 1e-9:
            print(name, m, got[name][m], v / users)
            bad += 1
print("differences", bad, "slices", len(want))
PYEOF
	echo "$output"
	assert_output 'differences 0 slices 3'
}
