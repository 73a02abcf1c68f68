#!/bin/sh
# Benchmark: kf analyze model against scikit-learn + pandas doing the same
# job in the same run: a binary model on the Chicago taxi data replicated
# 1x, 10x and 100x, evaluated overall and with 3 slicing specs (per hour;
# per day at hour 12; per payment type).
#
#   kf (model)   kf analyze model --model M: reads the CSV, applies the
#                bundle's transform and model to every row, slices, metrics
#   kf (scores)  kf analyze model --predictions: the same job from a scores
#                column, as the Python side gets it
#   python       pandas read_csv, the label, a groupby per spec and
#                roc_auc_score, average_precision_score, log_loss and
#                accuracy_score per slice
# Prints wall seconds and peak RSS of each, and the ratio python / kf.
#
#   t/bench/analyze-model.sh [KF] [TAXI.csv]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
KF=${1:-$here/../../build/kf}
TAXI=${2:-$here/../../../shared/data/chicago-taxi/data.csv}
PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import sklearn, pandas' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || { echo "needs python3-sklearn and python3-pandas (apt-get install python3-sklearn python3-pandas)" >&2; exit 3; }
[ -x "$KF" ] || { echo "no kf at $KF" >&2; exit 3; }
[ -f "$TAXI" ] || { echo "no taxi data at $TAXI" >&2; exit 3; }

work=$(mktemp -d "${TMPDIR:-/tmp}/kf-bench-model.XXXXXX")
trap 'rm -rf "$work"' EXIT
LABEL='tips > 0.2 * fare'

"$KF" --store "$work/store" train -q --model logistic --data "$TAXI" --label-expr "$LABEL" \
	--ignore tips,trip_start_timestamp --out "$work/model" >/dev/null
# the scores, once, as a column beside the data (what the Python side reads)
"$KF" train predict --model-dir "$work/model" --data "$TAXI" | cut -d, -f1 >"$work/p.csv"
paste -d, "$TAXI" "$work/p.csv" >"$work/x1.csv"

cat >"$work/peer.py" <<'EOF'
import sys
import pandas as pd
from sklearn.metrics import roc_auc_score, average_precision_score, log_loss, accuracy_score

df = pd.read_csv(sys.argv[1])
df["y"] = (df.tips > 0.2 * df.fare).astype(int)
p = df.probability

def metrics(g):
    y, s = g.y.to_numpy(), g.probability.to_numpy()
    both = 0 < y.sum() < len(y)
    return (len(y), roc_auc_score(y, s) if both else None,
            average_precision_score(y, s) if y.sum() else None,
            log_loss(y, s, labels=[0, 1]), accuracy_score(y, s >= 0.5))

out = [("Overall", metrics(df))]
for k, g in df.dropna(subset=["trip_start_hour"]).groupby("trip_start_hour"):
    out.append(("trip_start_hour=%s" % k, metrics(g)))
d12 = df[df.trip_start_hour == 12].dropna(subset=["trip_start_day"])
for k, g in d12.groupby("trip_start_day"):
    out.append(("trip_start_day=%s,trip_start_hour=12" % k, metrics(g)))
for k, g in df.dropna(subset=["payment_type"]).groupby("payment_type"):
    out.append(("payment_type=%s" % k, metrics(g)))
print(len(out), "slices; overall auc", out[0][1][1])
EOF

SPECS="--slice trip_start_hour --slice trip_start_day,trip_start_hour=12 --slice payment_type"

# timed LABEL CMD...: run, print "LABEL seconds rss_MiB", keep the seconds
timed() {
	label=$1
	shift
	/usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
		echo "$label failed:" >&2
		cat "$work/err" >&2
		exit 1
	}
	read -r secs kib <"$work/time"
	if [ "$(head -c1 "$work/out")" = "{" ]; then
		what=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["slices"]; print(len(s), "slices; overall auc", s[0]["metrics"][d["name"]]["auc"])' "$work/out")
	else
		what=$(tail -1 "$work/out")
	fi
	printf '  %-14s %8.2f s %8.0f MiB   %s\n' "$label" "$secs" "$((kib / 1024))" "$what"
	last=$secs
}

echo "kf analyze model vs scikit-learn + pandas, taxi data, 3 slicing specs"
for n in 1 10 100; do
	: >"$work/data.csv"
	head -1 "$work/x1.csv" >"$work/data.csv"
	i=0
	while [ $i -lt "$n" ]; do
		tail -n +2 "$work/x1.csv" >>"$work/data.csv"
		i=$((i + 1))
	done
	rows=$(($(wc -l <"$work/data.csv") - 1))
	echo "${n}x: $rows rows"
	# shellcheck disable=SC2086
	timed "kf (model)" "$KF" --store "$work/store" analyze model --model "$work/model" \
		--data "$work/data.csv" $SPECS --metrics auc -o json
	kfm=$last
	# shellcheck disable=SC2086
	timed "kf (scores)" "$KF" --store "$work/store" analyze model --predictions "$work/data.csv" \
		--prediction-column probability --label-expr "$LABEL" $SPECS -o json
	kfs=$last
	timed "python" "$PY" "$work/peer.py" "$work/data.csv"
	py=$last
	awk -v a="$py" -v b="$kfm" -v c="$kfs" -v n="$n" \
		'BEGIN { printf "  %sx ratio python/kf: %.1fx (model), %.1fx (scores)\n", n, a / b, a / c }'
done
