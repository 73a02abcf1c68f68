#!/bin/sh
# Benchmark: kf train against scikit-learn and xgboost (Python), measured in
# the same run, on the Chicago taxi sample of ../shared/data, with the TFX
# taxi label "tips > 0.2 x fare" and the split "row i is eval when i % 5 == 4".
#
#   t/bench/train.sh [KF_BINARY] [SCALES]     SCALES default "1 10 100"
#
# Every model is fitted REPEAT times (default 3 at scale 1, 1 above) and the
# fastest fit is reported, for kf and the peers alike: on a shared machine
# the minimum is the least noisy estimate of the cost.
# At scale N the data rows are replicated N times (so eval rows of one copy
# are training rows of another: the scales measure time and memory, not
# generalisation). Per model it prints AUC, accuracy and log loss on the eval
# rows, the fit time (kf: its fit_seconds metric, which includes reading and
# parsing the CSV; Python: the fit of the preprocessing and the model, the
# CSV already in memory), the peak resident memory of the process, and the
# ratios against scikit-learn's LogisticRegression(lbfgs) on the same run:
#   auc_diff = AUC - sklearn's AUC;  time_ratio = fit time / sklearn's fit time.
#
# The peers: kf logistic on exactly sklearn's columns and encodings
# (examples/train/taxi-logistic.yaml: one-hot categoricals, standardised
# numbers; --l2 equal to sklearn's C=1 penalty), kf logistic/mlp/xgboost on
# the taxi features (examples/train/taxi-features.yaml), kf xgboost and
# python3-xgboost on sklearn's columns. xgboost (both) runs at scale 1 and 10
# only: it keeps the whole dense matrix in memory. From scale 100 on, kf mlp
# runs 2 epochs (its 30 would take a quarter of an hour on two cores).
set -eu

here=$(cd "$(dirname "$0")/../.." && pwd)
kf=${1:-${KF_BIN:-$here/build/kf}}
scales=${2:-1 10 100}
data=${KF_SHARED:-$here/../shared}/data/chicago-taxi/data.csv
[ -x "$kf" ] || { echo "train.sh: no kf binary at $kf (build first, or pass its path)" >&2; exit 2; }
[ -f "$data" ] || { echo "train.sh: $data not found" >&2; exit 2; }

py=/usr/bin/python3
if ! $py -c 'import sklearn, xgboost, pandas' 2>/dev/null; then
	echo "train.sh: installing python3-sklearn python3-xgboost python3-pandas" >&2
	apt-get install -y -qq python3-sklearn python3-xgboost python3-pandas >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kf-bench-train.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat > "$work/peer.py" <<'PY'
import resource, sys, time
import numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler

path, which = sys.argv[1], sys.argv[2]
df = pd.read_csv(path)
y = ((df.tips > 0.2 * df.fare) & df.fare.notna()).astype(int).values
ev = (np.arange(len(df)) % 5) == 4
cat = ["payment_type", "company", "trip_start_hour", "trip_start_day", "trip_start_month",
       "pickup_community_area", "dropoff_community_area"]
num = ["fare", "trip_miles", "trip_seconds", "pickup_latitude", "pickup_longitude",
       "dropoff_latitude", "dropoff_longitude"]
X = df[cat + num].copy()
for c in cat:
    X[c] = X[c].astype(str)
for c in num:
    X[c] = X[c].fillna(X[c][~ev].mean())
pre = ColumnTransformer([("c", OneHotEncoder(handle_unknown="ignore"), cat), ("n", StandardScaler(), num)])
t0 = time.perf_counter()
Xt = pre.fit_transform(X[~ev])
if which == "sklearn":
    m = LogisticRegression(solver="lbfgs", max_iter=1000).fit(Xt, y[~ev])
else:
    import xgboost as xgb
    m = xgb.XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1, subsample=0.8,
                          tree_method="hist", early_stopping_rounds=20, eval_metric="logloss")
    m.fit(Xt, y[~ev], eval_set=[(pre.transform(X[ev]), y[ev])], verbose=False)
fit = time.perf_counter() - t0
p = m.predict_proba(pre.transform(X[ev]))[:, 1]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{roc_auc_score(y[ev], p):.6f} {accuracy_score(y[ev], p >= 0.5):.6f} {log_loss(y[ev], p):.6f} {fit:.4f} {rss:.0f}")
PY

# best CMD...: run CMD (which prints "auc acc logloss fit rss") $repeat times;
# print the last line with the smallest fit time
best() {
	k=0
	: > "$work/runs"
	while [ "$k" -lt "$repeat" ]; do "$@" >> "$work/runs"; k=$((k + 1)); done
	sort -k4,4g "$work/runs" | head -1
}

# kf_once NAME ARGS...: train, print "auc acc logloss fit rss_mb"
kf_once() {
	name=$1
	shift
	rm -rf "$work/m-$name"
	/usr/bin/time -f '%M' -o "$work/rss" "$kf" --store "$work/store" train --data "$file" \
		--label-expr 'tips > 0.2 * fare' --eval-split mod:5:4 --out "$work/m-$name" -q "$@" > "$work/metrics"
	awk -F= -v rss="$(cat "$work/rss")" '
		{ m[$1] = $2 }
		END { printf "%.6f %.6f %.6f %.4f %.0f\n", m["auc"], m["accuracy"], m["log_loss"], m["fit_seconds"], rss / 1024 }' \
		"$work/metrics"
}

kf_run() {
	best kf_once "$@"
}

py_run() {
	best "$py" "$work/peer.py" "$file" "$1"
}

row() {   # row SCALE ROWS NAME "auc acc logloss fit rss"
	set -- "$1" "$2" "$3" $4
	awk -v s="$1" -v n="$2" -v name="$3" -v auc="$4" -v acc="$5" -v ll="$6" -v fit="$7" -v rss="$8" \
	    -v sauc="$sk_auc" -v sfit="$sk_fit" 'BEGIN {
		printf "%-6s %9s  %-30s %8.4f %8.4f %8.4f %9.3f %8s %+9.4f %10.2f\n",
		       s "x", n, name, auc, acc, ll, fit, rss, auc - sauc, fit / sfit }'
}

printf '%-6s %9s  %-30s %8s %8s %8s %9s %8s %9s %10s\n' \
	scale rows model auc accuracy logloss fit_s rss_MB auc_diff time_ratio
for n in $scales; do
	file=$work/data-$n.csv
	head -1 "$data" > "$file"
	i=0
	while [ "$i" -lt "$n" ]; do tail -n +2 "$data" >> "$file"; i=$((i + 1)); done
	rows=$(($(wc -l < "$file") - 1))
	repeat=${REPEAT:-$([ "$n" -le 1 ] && echo 3 || echo 1)}
	sk=$(py_run sklearn)
	sk_auc=$(echo "$sk" | cut -d' ' -f1)
	sk_fit=$(echo "$sk" | cut -d' ' -f4)
	row "$n" "$rows" "sklearn LogisticRegression" "$sk"
	row "$n" "$rows" "kf logistic (sklearn's feats)" \
		"$(kf_run lr-same --model logistic --features "$here/examples/train/taxi-logistic.yaml" --l2 8.3e-5)"
	row "$n" "$rows" "kf logistic (taxi feats)" \
		"$(kf_run lr --model logistic --features "$here/examples/train/taxi-features.yaml")"
	if [ "$n" -lt 100 ]; then
		row "$n" "$rows" "kf mlp (taxi feats)" \
			"$(kf_run mlp --model mlp --features "$here/examples/train/taxi-features.yaml")"
	else
		row "$n" "$rows" "kf mlp (taxi feats, 2 epochs)" \
			"$(kf_run mlp --model mlp --features "$here/examples/train/taxi-features.yaml" --epochs 2)"
	fi
	if [ "$n" -le 10 ]; then
		if "$kf" version | grep -q xgboost; then
			row "$n" "$rows" "kf xgboost (sklearn's feats)" \
				"$(kf_run xgb --model xgboost --features "$here/examples/train/taxi-logistic.yaml")"
		fi
		row "$n" "$rows" "python xgboost" "$(py_run xgboost)"
	fi
	rm -f "$file"
done
