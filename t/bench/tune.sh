#!/bin/bash
# kf tune against Optuna on three standard functions.
#
#   t/bench/tune.sh [SEEDS] [TRIALS]       (default 20 seeds, 50 trials)
#
# Branin (2-d), Hartmann-6 (6-d) and a noisy quadratic (4-d, Gaussian noise
# sd 0.5): for each function and seed, kf tune runs a Katib Experiment whose
# trials are batch Job containers running a tiny awk objective, with
# algorithms tpe, bayesianoptimization, cmaes and random; Debian's
# python3-optuna (installed by this script when missing) runs TPESampler,
# CmaEsSampler and RandomSampler on the same functions in the same run.
# Prints the median final regret per algorithm (the true, noise-free value at
# the trial each search judged best, minus the optimum), kf's ratio to its
# Optuna counterpart, and kf's per-trial scheduling overhead: the time kf
# itself spends per trial (suggestion, bookkeeping, starting and reaping the
# process), as kf tune measures it, and as wall time minus trial run time.
set -eu

SEEDS=${1:-20}
TRIALS=${2:-50}
here=$(cd "$(dirname "$0")" && pwd)
KF=${KF_BIN:-$here/../../build/kf}
[ -x "$KF" ] || KF=$here/../../kf
[ -x "$KF" ] || { echo "tune.sh: build kf first (or set KF_BIN)" >&2; exit 3; }
JOBS=${JOBS:-2}

# Optuna, from Debian; the Python that has it.
PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import optuna' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
	echo "tune.sh: installing python3-optuna" >&2
	apt-get install -y python3-optuna >/dev/null
	PY=/usr/bin/python3
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kf-bench-tune.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The objectives: print "loss=" (what the search sees) and "true=" (noise-free).
cat >"$work/obj.awk" <<'EOF'
function gauss(   u1, u2) { do u1 = rand(); while (u1 <= 0); u2 = rand(); return sqrt(-2 * log(u1)) * cos(2 * 3.141592653589793 * u2) }
BEGIN {
	pi = atan2(0, -1)
	if (fn == "branin") {
		b = 5.1 / (4 * pi * pi); c = 5 / pi; t = 1 / (8 * pi)
		f = (x2 - b * x1 * x1 + c * x1 - 6) ^ 2 + 10 * (1 - t) * cos(x1) + 10; y = f
	} else if (fn == "hartmann6") {
		split("10 3 17 3.5 1.7 8 0.05 10 17 0.1 8 14 3 3.5 1.7 10 17 8 17 8 0.05 10 0.1 14", A, " ")
		split("1312 1696 5569 124 8283 5886 2329 4135 8307 3736 1004 9991 2348 1451 3522 2883 3047 6650 4047 8828 8732 5743 1091 381", P, " ")
		split("1 1.2 3 3.2", al, " ")
		x[1] = x1; x[2] = x2; x[3] = x3; x[4] = x4; x[5] = x5; x[6] = x6
		f = 0
		for (i = 1; i <= 4; i++) {
			s = 0
			for (j = 1; j <= 6; j++) s += A[(i - 1) * 6 + j] * (x[j] - P[(i - 1) * 6 + j] / 10000) ^ 2
			f -= al[i] * exp(-s)
		}
		y = f
	} else {
		f = (x1 - 1) ^ 2 + (x2 - 1) ^ 2 + (x3 - 1) ^ 2 + (x4 - 1) ^ 2
		n = ENVIRON["KF_TUNE_TRIAL"]; sub(/.*-/, "", n)
		srand(seed * 1000 + n)
		y = f + 0.5 * gauss()
	}
	printf "loss=%.12g true=%.12g\n", y, f
}
EOF

params() {
	case $1 in
	branin) echo '[{name: x1, parameterType: double, feasibleSpace: {min: "-5", max: "10"}}, {name: x2, parameterType: double, feasibleSpace: {min: "0", max: "15"}}]' ;;
	hartmann6)
		local s= i
		for i in 1 2 3 4 5 6; do s="$s${s:+, }{name: x$i, parameterType: double, feasibleSpace: {min: \"0\", max: \"1\"}}"; done
		echo "[$s]" ;;
	quadratic)
		local s= i
		for i in 1 2 3 4; do s="$s${s:+, }{name: x$i, parameterType: double, feasibleSpace: {min: \"-5\", max: \"5\"}}"; done
		echo "[$s]" ;;
	esac
}

dims() { case $1 in branin) echo 2 ;; hartmann6) echo 6 ;; quadratic) echo 4 ;; esac; }

# experiment FN ALGO SEED: an Experiment file; prints its path.
experiment() {
	local fn=$1 algo=$2 seed=$3 d i args= tps=
	d=$(dims "$fn")
	for i in $(seq 1 6); do
		if [ "$i" -le "$d" ]; then
			args="$args, -v, \"x$i=\${trialParameters.x$i}\""
			tps="$tps${tps:+, }{name: x$i, reference: x$i}"
		fi
	done
	local f="$work/exp/$fn-$algo-$seed.yaml"
	mkdir -p "$work/exp"
	cat >"$f" <<EOF
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: $fn-$algo-$seed
spec:
  objective: {type: minimize, objectiveMetricName: loss, additionalMetricNames: ["true"]}
  algorithm:
    algorithmName: $algo
    algorithmSettings: [{name: random_state, value: "$seed"}]
  parallelTrialCount: 1
  maxTrialCount: $TRIALS
  parameters: $(params "$fn")
  trialTemplate:
    primaryContainerName: objective
    trialParameters: [$tps]
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: objective
                image: busybox
                command: [awk, -v, fn=$fn, -v, seed=$seed$args, -f, $work/obj.awk]
            restartPolicy: Never
EOF
	echo "$f"
}

echo "kf tune vs Optuna $("$PY" -c 'import optuna; print(optuna.__version__)'): $SEEDS seeds x $TRIALS trials, functions branin hartmann6 quadratic" >&2
: >"$work/list"
for fn in branin hartmann6 quadratic; do
	for algo in tpe bayesianoptimization cmaes random; do
		for seed in $(seq 1 "$SEEDS"); do
			experiment "$fn" "$algo" "$seed" >>"$work/list"
		done
	done
done

t0=$(date +%s.%N)
# shellcheck disable=SC2016
xargs -P "$JOBS" -I{} sh -c '"$0" --store "$1/store-$(basename "{}" .yaml)" -q tune "{}" -o json > "{}.json" 2>/dev/null || true' "$KF" "$work" <"$work/list"
t1=$(date +%s.%N)
echo "kf: $(wc -l <"$work/list") experiments in $(awk "BEGIN { print $t1 - $t0 }") s" >&2

cat >"$work/bench_optuna.py" <<'EOF'
import json, math, random, sys, time
import optuna
optuna.logging.set_verbosity(optuna.logging.ERROR)
seeds, trials = int(sys.argv[1]), int(sys.argv[2])
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
AL = [1, 1.2, 3, 3.2]
def branin(x):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10
def hartmann6(x):
    return -sum(AL[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j] / 1e4) ** 2 for j in range(6))) for i in range(4))
def quadratic(x):
    return sum((v - 1) ** 2 for v in x)
FNS = {"branin": (branin, [(-5, 10), (0, 15)]), "hartmann6": (hartmann6, [(0, 1)] * 6),
       "quadratic": (quadratic, [(-5, 5)] * 4)}
SAMPLERS = {"tpe": lambda s: optuna.samplers.TPESampler(seed=s),
            "cmaes": lambda s: optuna.samplers.CmaEsSampler(seed=s),
            "random": lambda s: optuna.samplers.RandomSampler(seed=s)}
out = []
for fn, (f, bounds) in FNS.items():
    for name, mk in SAMPLERS.items():
        for seed in range(1, seeds + 1):
            rng = random.Random(seed)
            def objective(trial):
                x = [trial.suggest_float("x%d" % (i + 1), lo, hi) for i, (lo, hi) in enumerate(bounds)]
                v = f(x)
                trial.set_user_attr("true", v)
                return v + (0.5 * rng.gauss(0, 1) if fn == "quadratic" else 0)
            st = optuna.create_study(sampler=mk(seed))
            t0 = time.perf_counter()
            st.optimize(objective, n_trials=trials)
            dt = time.perf_counter() - t0
            out.append({"fn": fn, "algo": name, "seed": seed, "true": st.best_trial.user_attrs["true"],
                        "seconds": dt})
json.dump(out, sys.stdout)
EOF
"$PY" "$work/bench_optuna.py" "$SEEDS" "$TRIALS" >"$work/optuna.json"
t2=$(date +%s.%N)
echo "optuna: $(awk "BEGIN { print $t2 - $t1 }") s" >&2

python3 - "$work" "$SEEDS" "$TRIALS" <<'EOF'
import glob, json, os, statistics, sys
work, seeds, trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
OPT = {"branin": 0.397887357729739, "hartmann6": -3.32236801141551, "quadratic": 0.0}
kf, overhead, wall_over, failed = {}, [], [], 0
for path in glob.glob(os.path.join(work, "exp", "*.json")):
    try:
        d = json.load(open(path))
    except ValueError:
        failed += 1
        continue
    fn, algo = d["name"].split("-")[0], d["algorithm"]
    best = [t for t in d["trials"] if t["best"]]
    if not best:
        failed += 1
        continue
    kf.setdefault((fn, algo), []).append(best[0]["metrics"]["true"] - OPT[fn])
    n = len(d["trials"])
    overhead.append(d["overheadMs"] / n)
    wall = d["finished"] - d["created"]
    wall_over.append((wall - sum(t["durationMs"] for t in d["trials"])) / n)
op = {}
for r in json.load(open(os.path.join(work, "optuna.json"))):
    op.setdefault((r["fn"], r["algo"]), []).append(r["true"] - OPT[r["fn"]])
med = lambda v: statistics.median(v) if v else float("nan")
print("median final regret after %d trials over %d seeds (lower is better)" % (trials, seeds))
print("%-10s %12s %12s %12s %12s %12s %12s %12s" % ("function", "kf tpe", "optuna tpe", "kf bayesopt",
      "kf cmaes", "optuna cmaes", "kf random", "optuna rand"))
ok = True
for fn in ("branin", "hartmann6", "quadratic"):
    row = [med(kf.get((fn, "tpe"), [])), med(op.get((fn, "tpe"), [])), med(kf.get((fn, "bayesianoptimization"), [])),
           med(kf.get((fn, "cmaes"), [])), med(op.get((fn, "cmaes"), [])), med(kf.get((fn, "random"), [])),
           med(op.get((fn, "random"), []))]
    print("%-10s" % fn + "".join(" %12.4g" % v for v in row))
print()
for fn in ("branin", "hartmann6", "quadratic"):
    a, b = med(kf.get((fn, "tpe"), [])), med(op.get((fn, "tpe"), []))
    c, r = med(kf.get((fn, "bayesianoptimization"), [])), med(kf.get((fn, "random"), []))
    print("%-10s kf tpe / optuna tpe regret ratio %.3f (%s)   kf bayesopt / kf random %.3f (%s)" % (
        fn, a / b if b else float("inf"), "ok" if a <= b else "WORSE", c / r if r else float("inf"),
        "ok" if c < r else "WORSE"))
print()
print("kf per-trial scheduling overhead: %.2f ms median as kf tune measures it (suggest, record, "
      "start, reap), %.2f ms median wall time minus trial run time; target < 5 ms" %
      (med(overhead), med(wall_over)))
if failed:
    print("warning: %d kf experiments did not finish" % failed)
EOF
