#!/usr/bin/env bats
# kf tune: Katib Experiments run locally, through the CLI.

load test_helper

# One value from the store's SQLite database (python3's sqlite3: no CLI needed).
sql() {
	python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$KF_STORE/kf.db" "$1"
}

F4=$FIXTURES/4001

# experiment NAME ALGO SETTINGS PARAMS MAX PARALLEL COMMAND... : write NAME.yaml,
# a batch Job experiment minimizing "loss" over PARAMS (YAML flow list);
# COMMAND is a YAML flow list that may use ${trialParameters.x} and .y.
experiment() {
	local name=$1 algo=$2 settings=$3 params=$4 max=$5 par=$6 cmd=$7 extra=${8:-}
	cat >"$name.yaml" <<EOF
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: $name
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm:
    algorithmName: $algo
    algorithmSettings: [$settings]
  parallelTrialCount: $par
  maxTrialCount: $max
$extra
  parameters: $params
  trialTemplate:
    primaryContainerName: main
    trialParameters: [{name: x, reference: x}, {name: y, reference: y}]
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: main
                image: busybox
                command: $cmd
            restartPolicy: Never
EOF
}

XY='[{name: x, parameterType: double, feasibleSpace: {min: "-5", max: "10"}}, {name: y, parameterType: double, feasibleSpace: {min: "0", max: "15"}}]'
# Branin, printed as Katib's StdOut collector reads it
BRANIN='[awk, -v, "x=${trialParameters.x}", -v, "y=${trialParameters.y}", "BEGIN { pi = atan2(0, -1); b = 5.1 / (4 * pi * pi); c = 5 / pi; t = 1 / (8 * pi); printf \"loss=%.10g\\n\", (y - b * x * x + c * x - 6) ^ 2 + 10 * (1 - t) * cos(x) + 10 }"]'

# The best objective of experiment $1 as JSON says it.
best_objective() {
	kf --store "$KF_STORE" tune best "$1" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["objective"])'
}

@test "a batch Job experiment runs: the best trial, the table, the record" {
	cp "$F4/quad.yaml" .
	run_kf -0 tune quad.yaml
	assert_output --partial "experiment quad: Succeeded (ExperimentMaxTrialsReached)"
	assert_output --partial "best trial quad-"
	run_kf -0 tune show quad
	assert_line --regexp '^\*  +quad-[0-9]+ +Succeeded'
	[ "$(grep -c Succeeded <<<"$output")" -eq 6 ]
	run_kf -0 tune show quad -o json
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["kind"]=="Experiment" and d["counts"]["Succeeded"]==6 and d["best"]' "$output"
	run_kf -0 tune ls
	assert_line --regexp '^quad +Succeeded +random +6 '
}

@test "each algorithm finds a low point of Branin, the same for the same random_state" {
	local algo best
	for algo in random sobol tpe bayesianoptimization cmaes; do
		experiment "b-$algo" "$algo" '{name: random_state, value: "5"}' "$XY" 30 1 "$BRANIN"
		run_kf -0 tune "b-$algo.yaml" -q
		best=$(best_objective "b-$algo")
		echo "$algo: $best"
		python3 -c "import sys; sys.exit(0 if float('$best') < (6.0 if '$algo' in ('random', 'sobol') else 2.0) else 1)"
		# the same experiment under another name, in another store: the same trials
		sed "s/name: b-$algo\$/name: c-$algo/" "b-$algo.yaml" >"c-$algo.yaml"
		run "$KF_BIN" --store "$TEST_DIR/other" tune "c-$algo.yaml" -q
		[ "$status" -eq 0 ]
		[ "$("$KF_BIN" --store "$TEST_DIR/other" tune best "c-$algo" --as-args)" = "$(kf --store "$KF_STORE" tune best "b-$algo" --as-args)" ]
	done
}

@test "model-based algorithms beat random on Branin" {
	local algo r
	experiment rnd random '{name: random_state, value: "11"}' "$XY" 30 1 "$BRANIN"
	run_kf -0 tune rnd.yaml -q
	r=$(best_objective rnd)
	for algo in tpe bayesianoptimization; do
		experiment "m-$algo" "$algo" '{name: random_state, value: "11"}' "$XY" 30 1 "$BRANIN"
		run_kf -0 tune "m-$algo.yaml" -q
		python3 -c "import sys; sys.exit(0 if float('$(best_objective "m-$algo")') < float('$r') else 1)"
	done
}

@test "grid runs every combination once, then ends" {
	experiment g grid '' '[{name: x, parameterType: int, feasibleSpace: {min: "1", max: "3"}}, {name: y, parameterType: categorical, feasibleSpace: {list: [a, b]}}]' 6 2 \
		'[sh, -c, "echo loss=$0", "${trialParameters.x}${trialParameters.y}"]'
	sed -i 's/echo loss=\$0/echo loss=$(( ${0%?} ))/' g.yaml
	run_kf -0 tune g.yaml
	run_kf -0 tune show g -o json
	python3 - "$output" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
got = sorted((t["parameters"]["x"], t["parameters"]["y"]) for t in d["trials"])
assert got == [(x, y) for x in "123" for y in "ab"], got
assert d["reason"] == "ExperimentMaxTrialsReached", d["reason"]
EOF
	# without maxTrialCount the grid ends when the space is exhausted
	sed -i '/maxTrialCount/d; s/name: g$/name: g2/' g.yaml
	run_kf -0 tune g.yaml -q -o json
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["reason"]=="ExperimentSuggestionEndReached" and len(d["trials"])==6' "$output"
}

@test "hyperband runs Katib's brackets with the resource parameter" {
	experiment hb hyperband '{name: r_l, value: "9"}, {name: eta, value: "3"}, {name: resource_name, value: y}, {name: random_state, value: "2"}' \
		'[{name: x, parameterType: double, feasibleSpace: {min: "0", max: "1"}}, {name: y, parameterType: int, feasibleSpace: {min: "1", max: "9"}}]' \
		30 9 '[awk, -v, "x=${trialParameters.x}", -v, "e=${trialParameters.y}", "BEGIN { print \"loss=\" (x - 0.3) ^ 2 + 1 / e }"]'
	run_kf -0 tune hb.yaml
	run_kf -0 tune show hb -o json
	python3 - "$output" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
t = d["trials"]
assert len(t) == 23, len(t)
epochs = [int(x["parameters"]["y"]) for x in t]
assert epochs == [1] * 9 + [3] * 3 + [9] + [3] * 5 + [9] * 2 + [9] * 3, epochs
# rung 1 continues the best three of rung 0
first = sorted(t[:9], key=lambda x: x["objective"])[:3]
assert [x["parameters"]["x"] for x in first] == [x["parameters"]["x"] for x in t[9:12]]
assert d["reason"] == "ExperimentSuggestionEndReached", d["reason"]
EOF
}

@test "hyperband needs parallelTrialCount eta^s_max, and its resource among the parameters" {
	experiment hb hyperband '{name: r_l, value: "9"}, {name: resource_name, value: epochs}' "$XY" 30 3 "$BRANIN"
	run_kf -2 tune hb.yaml
	assert_output --partial 'resource_name "epochs" is not a parameter'
	assert_output --partial 'parallelTrialCount must be at least 9'
}

@test "the metrics regex reads signs, exponents, integers and .5" {
	local v want
	for v in "loss=1e-05:1e-05" "loss = -1.5:-1.5" "loss=5:5" "loss=.5:0.5" "epoch 3: loss=2.5E+2, acc=0.9:250" "loss=7.:7"; do
		want=${v##*:}
		experiment m random '' '[{name: x, parameterType: int, feasibleSpace: {min: "1", max: "1"}}, {name: y, parameterType: int, feasibleSpace: {min: "1", max: "1"}}]' 1 1 \
			"[printf, '%s\\n', '${v%:*}', '\${trialParameters.x}\${trialParameters.y}']"
		rm -rf "$KF_STORE"
		run_kf -0 tune m.yaml -q
		[ "$(best_objective m)" = "$want" ] || { echo "${v%:*}: got $(best_objective m), want $want"; false; }
	done
}

@test "a trial that never reports its objective is MetricsUnavailable, with the reason" {
	experiment nm random '' "$XY" 2 1 '[echo, "accuracy=0.9", "${trialParameters.x}", "${trialParameters.y}"]'
	run_kf -1 tune nm.yaml
	assert_output --partial 'trial nm-1: MetricsUnavailable loss=-: objective metric "loss" was never reported'
	assert_output --partial 'ended (ExperimentMaxTrialsReached) with no successful trial'
	run_kf -0 tune show nm
	assert_output --partial MetricsUnavailable
}

@test "maxFailedTrialCount ends the experiment as Failed" {
	experiment fl random '' "$XY" 10 1 '[sh, -c, "echo boom $0 $1 >&2; exit 3", "${trialParameters.x}", "${trialParameters.y}"]' \
		'  maxFailedTrialCount: 2'
	run_kf -1 tune fl.yaml
	assert_output --partial 'trial fl-1: Failed loss=-: exit code 3: boom'
	assert_output --partial 'ExperimentMaxFailedTrialsReached'
	run_kf -0 tune show fl -o json
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["state"]=="Failed" and len(d["trials"])==3, d' "$output"
}

@test "the goal ends the experiment" {
	experiment gl grid '' '[{name: x, parameterType: int, feasibleSpace: {min: "1", max: "9"}}, {name: y, parameterType: int, feasibleSpace: {min: "0", max: "0"}}]' 9 1 \
		'[sh, -c, "echo loss=$((10 - $0))", "${trialParameters.x}", "${trialParameters.y}"]' '  objective: {type: minimize, goal: 7, objectiveMetricName: loss}'
	sed -i '0,/objective: {type: minimize, objectiveMetricName: loss}/{/objective: {type: minimize, objectiveMetricName: loss}/d}' gl.yaml
	run_kf -0 tune gl.yaml
	assert_output --partial 'Succeeded (ExperimentGoalReached)'
	run_kf -0 tune show gl -o json
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert len(d["trials"])==3, len(d["trials"])' "$output"
}

@test "medianstop stops trials worse than the median" {
	experiment ms grid '' '[{name: x, parameterType: discrete, feasibleSpace: {list: ["1", "2", "50", "60"]}}, {name: y, parameterType: int, feasibleSpace: {min: "0", max: "0"}}]' 4 1 \
		'[sh, -c, "for i in 1 2 3 4 5 6 7 8; do echo loss=$0; sleep 0.1; done", "${trialParameters.x}", "${trialParameters.y}"]' \
		'  earlyStopping: {algorithmName: medianstop, algorithmSettings: [{name: min_trials_required, value: "2"}, {name: start_step, value: "2"}]}'
	run_kf -0 tune ms.yaml
	run_kf -0 tune show ms -o json
	python3 - "$output" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
s = [t["state"] for t in d["trials"]]
assert s == ["Succeeded", "Succeeded", "EarlyStopped", "EarlyStopped"], s
assert all(len(t["observations"]) < 8 for t in d["trials"][2:]), d["trials"][2]["observations"]
EOF
}

@test "File collector: TEXT and JSON lines in the trial's directory" {
	experiment fc random '' "$XY" 1 1 '[sh, -c, "echo \"{\\\"loss\\\": 0.25}\" > out/m.json; echo $0 $1", "${trialParameters.x}", "${trialParameters.y}"]' \
		'  metricsCollectorSpec: {collector: {kind: File}, source: {fileSystemPath: {path: out/m.json, kind: File, format: JSON}}}'
	sed -i 's|echo \\"{|mkdir -p out; echo \\"{|' fc.yaml
	run_kf -0 tune fc.yaml -q
	[ "$(best_objective fc)" = "0.25" ]
}

@test "validation errors name the place, with Katib's rules" {
	local c
	for c in "$F4"/err-*.yaml; do
		run_kf -2 tune "$c"
		diff -u "${c%.yaml}.err" <(sed "s|$F4/||" <<<"$output") || { echo "case $c"; false; }
	done
}

@test "logs prints a trial's output; unknown names exit 2" {
	cp "$F4/quad.yaml" .
	run_kf -0 tune quad.yaml -q
	run_kf -0 tune logs quad 1
	assert_output --regexp '^step=1 loss='
	run_kf -0 tune logs quad quad-2
	assert_output --regexp '^step=1 loss='
	run_kf -2 tune logs quad 99
	assert_output --partial 'experiment "quad" has no trial "99"'
	run_kf -2 tune show nope
	assert_output --partial 'no experiment "nope" in the store'
	run_kf -2 tune quad.yaml
	assert_output --partial 'already exists in the store'
}

@test "the HTML report is self-contained, with the charts" {
	cp "$F4/quad.yaml" .
	run_kf -0 tune quad.yaml -q
	run_kf -0 tune show quad -o html
	assert_output --partial '<!DOCTYPE html>'
	assert_output --partial 'Parameters against the objective'
	[ "$(grep -c '<polyline' <<<"$output")" -ge 2 ]
	refute_output --partial '<script'
	refute_output --partial 'src='
	refute_output --partial 'href='
}

@test "an experiment killed with SIGKILL resumes where it was" {
	experiment rs random '{name: random_state, value: "9"}' "$XY" 5 1 \
		'[sh, -c, "sleep 0.4; echo loss=$0", "${trialParameters.x}", "${trialParameters.y}"]'
	"$KF_BIN" --store "$KF_STORE" tune rs.yaml -q >/dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 100); do
		grep -q '"name":"rs-3"' "$KF_STORE/tune/rs/experiment.json" 2>/dev/null && break
		sleep 0.1
	done
	kill -9 "$pid"
	wait "$pid" || true
	run_kf -0 tune --resume rs
	run_kf -0 tune show rs -o json
	python3 - "$output" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
assert [t["state"] for t in d["trials"]] == ["Succeeded"] * 5, [t["state"] for t in d["trials"]]
assert [t["name"] for t in d["trials"]] == ["rs-%d" % i for i in range(1, 6)]
EOF
	# the same trials as an experiment never interrupted
	sed 's/name: rs$/name: rs2/' rs.yaml >rs2.yaml
	run_kf -0 tune rs2.yaml -q
	[ "$(kf --store "$KF_STORE" tune best rs --as-args)" = "$(kf --store "$KF_STORE" tune best rs2 --as-args)" ]
}

@test "an interrupted (SIGTERM) experiment exits 130 and resumes" {
	experiment it random '' "$XY" 3 1 '[sh, -c, "sleep 0.3; echo loss=$0", "${trialParameters.x}", "${trialParameters.y}"]'
	"$KF_BIN" --store "$KF_STORE" tune it.yaml >out 2>&1 &
	local pid=$!
	sleep 0.5
	kill -TERM "$pid"
	local st=0
	wait "$pid" || st=$?
	[ "$st" -eq 130 ]
	grep -q 'kf tune --resume it' out
	run_kf -0 tune --resume it it.yaml
	run_kf -0 tune show it -o json
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["counts"]["Succeeded"]==3, d["counts"]' "$output"
}

@test "pipeline trials: the preparation step runs once, best reproduces with kf run" {
	cp "$KF_SRCDIR/examples/tune/pipeline.yaml" "$KF_SRCDIR/examples/tune/experiment.yaml" .
	sed -i 's/maxTrialCount: 12/maxTrialCount: 5/' experiment.yaml
	run_kf -0 tune experiment.yaml
	run_kf -0 tune show fit-line -o json
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["counts"]["Succeeded"]==5 and all(t["runId"] for t in d["trials"]), d["counts"]' "$output"
	[ "$(grep -l 'prepared 50 rows' "$KF_STORE"/runs/*/prepare/stdout | wc -l)" -eq 1 ]
	run_kf -0 tune logs fit-line 2
	assert_output --partial '==> step prepare (Cached) <=='
	assert_output --partial 'epoch=1 loss='
	# the mlpipeline-metrics output is collected as metric "w"
	run_kf -0 tune best fit-line -o json
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert 2 < d["metrics"]["w"] < 4 and d["runId"], d' "$output"
	# shellcheck disable=SC2046
	run_kf -0 run pipeline.yaml $(kf --store "$KF_STORE" tune best fit-line --as-args)
	# the experiment and its trials are contexts in the store, trials joined to runs
	[ "$(sql "SELECT count(*) FROM Context c JOIN Type t ON t.id = c.type_id WHERE t.name = 'kf.Trial'")" -eq 5 ]
	[ "$(sql "SELECT count(*) FROM Context c JOIN Type t ON t.id = c.type_id WHERE t.name = 'kf.Experiment' AND c.name = 'fit-line'")" -eq 1 ]
	[ "$(sql "SELECT count(DISTINCT a.execution_id) FROM Association a JOIN Context c ON c.id = a.context_id JOIN Type t ON t.id = c.type_id WHERE t.name = 'kf.Run' AND a.execution_id IN (SELECT e.id FROM Execution e JOIN Type t2 ON t2.id = e.type_id WHERE t2.name = 'kf.Trial')")" -eq 5 ]
}

@test "TFJob and PyTorchJob trials run through the training-operator runner" {
	run_kf -0 tune "$F4/tfjob.yaml"
	assert_output --partial 'experiment tfjob: Succeeded (ExperimentMaxTrialsReached)'
	run_kf -0 tune logs tfjob 1
	assert_output --partial '[worker-0] loss='
	assert_output --partial 'worker-1: started'
	run_kf -0 tune "$F4/pytorchjob.yaml"
	assert_output --partial 'best trial pytorchjob-2: accuracy=0.9 momentum=0.9'
	run_kf -0 tune logs pytorchjob 2
	assert_output --partial '[master-0] accuracy=0.9 world=2'
}

@test "Argo Workflow trials run as kf run runs a Workflow" {
	run_kf -0 tune "$F4/workflow.yaml"
	assert_output --partial 'experiment workflow: Succeeded (ExperimentMaxTrialsReached)'
	run_kf -0 tune logs workflow 1
	assert_output --partial '==> step train (Succeeded) <=='
	assert_output --regexp 'loss=0\.[0-9]+'
	run_kf -0 tune show workflow -o json
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert all(t["runId"] for t in d["trials"])' "$output"
}

@test "--emit writes the Katib Experiment: a pipeline becomes its Argo Workflow" {
	need_validator
	run_kf -0 tune "$KF_SRCDIR/examples/tune/experiment.yaml" --emit
	printf '%s\n' "$output" >emitted.yaml
	validate_k8s emitted.yaml
	grep -q 'kind: Workflow' emitted.yaml
	grep -qF "value: '\${trialParameters.learningRate}'" emitted.yaml
	grep -q "katib.kubeflow.org/model-training: 'true'" emitted.yaml
	! grep -q 'pipelineParams' emitted.yaml
	[ ! -d "$KF_STORE/tune" ]
	cp "$F4/quad.yaml" .
	run_kf -0 tune quad.yaml --emit
	printf '%s\n' "$output" >quad-emitted.yaml
	validate_k8s quad-emitted.yaml
	grep -q 'kind: Job' quad-emitted.yaml
}

@test "usage errors exit 2; -j overrides parallelTrialCount; ls -o json" {
	run_kf -2 tune
	assert_output --partial 'an EXPERIMENT.yaml, or --resume NAME, is required'
	cp "$F4/quad.yaml" .
	run_kf -2 tune quad.yaml -j 0
	assert_output --partial '-j: "0" is not a number of trials'
	run_kf -2 tune --resume other quad.yaml
	assert_output --partial '--resume other: the experiment file is "quad"'
	run_kf -2 tune --resume nothing
	assert_output --partial 'no experiment "nothing" in the store'
	run_kf -0 tune quad.yaml -j 1 -o json -q
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["parallelTrialCount"]==1, d["parallelTrialCount"]' "$output"
	run_kf -0 tune ls -o json
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["kind"]=="ExperimentList" and d["items"][0]["name"]=="quad"' "$output"
	run_kf -0 tune best quad -o yaml
	assert_line 'kind: BestTrial'
}

@test "medianstop stops pipeline trials too, from their steps' logs" {
	run_kf -0 tune "$F4/ms-pipeline.yaml"
	assert_output --partial 'trial ms-pipeline-3: EarlyStopped loss=50: loss 50 is worse than the median'
	run_kf -0 tune show ms-pipeline -o json
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); s=[t["state"] for t in d["trials"]]; assert s==["Succeeded"]*2+["EarlyStopped"]*2, s' "$output"
}

@test "trial metadata references: \${trialSpec.Name} is the trial's name" {
	cat >meta.yaml <<'YAML'
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: meta}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  parallelTrialCount: 1
  maxTrialCount: 2
  parameters:
    - {name: x, parameterType: int, feasibleSpace: {min: "1", max: "9"}}
  trialTemplate:
    trialParameters:
      - {name: x, reference: x}
      - {name: trialName, reference: "${trialSpec.Name}"}
      - {name: ns, reference: "${trialSpec.Namespace}"}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: c
                command: [sh, -c, 'echo "name=$1 ns=$2 env=$KF_TUNE_TRIAL loss=$0"', "${trialParameters.x}", "${trialParameters.trialName}", "${trialParameters.ns}"]
YAML
	run_kf -0 tune meta.yaml -q
	run_kf -0 tune logs meta 2
	assert_output --regexp '^name=meta-2 ns=default env=meta-2 loss=[1-9]$'
}

@test "a container's workingDir that exists here is the trial's directory" {
	mkdir -p proj
	printf 'BEGIN { print "loss=" x * 2 }\n' >proj/objective.awk
	cat >wd.yaml <<'YAML'
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: wd}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: grid}
  parallelTrialCount: 1
  parameters:
    - {name: x, parameterType: int, feasibleSpace: {min: "1", max: "2"}}
  trialTemplate:
    trialParameters: [{name: x, reference: x}]
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: c
                workingDir: proj
                command: [awk, -v, "x=${trialParameters.x}", -f, objective.awk]
YAML
	run_kf -0 tune wd.yaml
	assert_output --partial 'best trial wd-1: loss=2 x=1'
}
