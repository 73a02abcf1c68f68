#!/usr/bin/env bats
# kf run: executing a kf/v1 pipeline locally.

load test_helper

F=$FIXTURES/3001

@test "a pipeline runs: values flow, when skips, parallelFor fans out, onExit sees the status" {
	run_kf -0 run "$F/basic.yaml" -q
	run_id=$output
	[[ $run_id == basic-* ]]
	run_kf -0 run logs "$run_id" big
	assert_output "big 43"
	run_kf -0 run logs "$run_id" each
	assert_output --partial "each[0]: item x"
	assert_output --partial "each[2]: item z"
	run_kf -0 run logs "$run_id" after-small
	assert_output "small said 43"
	run_kf -0 run logs "$run_id" on-exit
	assert_output "run ended Succeeded"
	run_kf -0 run show "$run_id" -o json
	[ "$(jq -r '.state' <<<"$output")" = Succeeded ]
	[ "$(jq -r '.tasks[] | select(.name == "small") | .state' <<<"$output")" = Skipped ]
	[ "$(jq -r '.tasks[] | select(.name == "second") | .outputs.values.sum' <<<"$output")" = 43 ]
	[ "$(jq '[.tasks[] | select(.step == "each")] | length' <<<"$output")" = 3 ]
}

@test "-p and --params set parameters; -p wins" {
	printf 'a: 100\nitems: [p, q]\n' >params.yaml
	run_kf -0 run "$F/basic.yaml" -q --params params.yaml -p a=5
	run_kf -0 run logs "$output" big
	assert_output "big 47"
}

@test "a parameter value reaches the step verbatim and is never executed" {
	local v
	for v in '$(touch pwned)' '; rm -rf x' 'a
b' '`touch pwned2`' "'quoted' \"double\""; do
		mkdir -p x
		run_kf -0 run "$F/argv.yaml" -q -p "v=$v"
		run_kf -0 run logs "$output" print
		[ "$output" = "[$v]" ]
	done
	[ -d x ]
	[ -z "$(find "$TEST_DIR" -name 'pwned*')" ]
}

@test "a value passed by file (inputPath) arrives byte for byte" {
	run_kf -0 run "$F/argv.yaml" -q -p 'v=line one
$(touch pwned)'
	run_kf -0 run logs "$output" reprint
	[ "$output" = '[line one
$(touch pwned)]' ]
	[ -z "$(find "$TEST_DIR" -name 'pwned*')" ]
}

@test "independent steps run at the same time (-j 2), and cannot with -j 1" {
	mkdir meet
	run_kf -0 run "$F/parallel.yaml" -q -j 2 -p dir="$TEST_DIR/meet"
	rm -f meet/*
	run_kf -1 run "$F/parallel.yaml" -q -j 1 --no-cache -p dir="$TEST_DIR/meet"
}

@test "a failed step: retries, timeout, the rest omitted, exit 1 with its stderr" {
	run_kf -1 run "$F/fail.yaml"
	assert_output --partial 'step "bad" failed: exit code 3'
	assert_output --partial "the reason"
	run_kf -0 run show fail -o json
	[ "$(jq -r '.state' <<<"$output")" = Failed ]
	[ "$(jq -r '.tasks[] | select(.name == "flaky") | .state' <<<"$output")" = Succeeded ]
	[ "$(jq -r '.tasks[] | select(.name == "flaky") | .attempt' <<<"$output")" = 3 ]
	[ "$(jq -r '.tasks[] | select(.name == "slow") | .message' <<<"$output")" = "timed out after 1.0s" ]
	[ "$(jq -r '.tasks[] | select(.name == "never") | .state' <<<"$output")" = Omitted ]
	[ ! -e never-ran ]
	run_kf -0 run logs fail on-exit
	assert_output "exit handler saw Failed"
}

@test "a timeout kills the step's whole process group" {
	run_kf -1 run "$F/fail.yaml" -q
	run_kf -0 run ls -o name
	sleeper=$(cat "$KF_STORE/runs/$output/sleeper" 2>/dev/null || true)
	[ -n "$sleeper" ]
	# gone, or a zombie waiting for an init that may not reap
	[ ! -e "/proc/$sleeper" ] || [ "$(awk '{print $3}' "/proc/$sleeper/stat")" = Z ]
}

@test "kf as a step's command is the running kf" {
	PATH=/usr/bin:/bin run_kf -0 run "$F/selfkf.yaml" -q
	run_kf -0 run logs "$output" v
	assert_output --partial '"kind":	"Version"'
}

@test "a step writing 100 MB to stdout does not grow kf's memory" {
	run_kf -0 run "$F/bigout.yaml" -q
	id=$output
	[ "$(stat -c %s "$KF_STORE/runs/$id/flood/stdout")" = 100000000 ]
	hwm=$(awk '/VmHWM/ {print $2}' "$KF_STORE/runs/$id/flood/stderr")
	echo "kf peak RSS: $hwm kB"
	[ "$hwm" -lt 65536 ]
}

@test "bad input exits 2 before anything runs" {
	run_kf -2 run "$F/basic.yaml" -p nosuch=1
	assert_output --partial 'unknown parameter "nosuch"'
	run_kf -2 run "$F/argv.yaml"
	assert_output --partial 'parameter "v" has no value'
	run_kf -2 run "$F/basic.yaml" -j 0
	run_kf -2 run "$F/basic.yaml" --max-cache-staleness soon
	run_kf -2 run "$F/basic.yaml" --runner vm
	run_kf -0 run ls -o json
	[ "$(jq '.items | length' <<<"$output")" = 0 ]
}

@test "without a TTY, one line per state change goes to stderr, the run id to stdout" {
	run --separate-stderr "$KF_BIN" --store "$KF_STORE" run "$F/basic.yaml"
	[ "$status" -eq 0 ]
	[[ $output == basic-* ]]
	[[ $stderr == *"first: Running"* ]]
	[[ $stderr == *"first: Succeeded"* ]]
	[[ $stderr == *"small: Skipped"* ]]
}

@test "-o json prints the run record" {
	run_kf -0 run "$F/basic.yaml" -q -o json
	[ "$(jq -r .kind <<<"$output")" = Run ]
	[ "$(jq -r .state <<<"$output")" = Succeeded ]
}

@test "parallelFor runs at most parallelism items at once" {
	mkdir d
	cat >limit.yaml <<-'YAML'
	apiVersion: kf/v1
	kind: Pipeline
	metadata: {name: limit}
	spec:
	  params:
	    dir: {type: String}
	  components:
	    alone:
	      name: alone
	      inputs: [{name: dir}, {name: i}]
	      implementation:
	        container:
	          image: busybox
	          command: [sh, -c, 'mkdir "$0/lock" || exit 1; sleep 0.2; echo "$1" >> "$0/order"; rmdir "$0/lock"', {inputValue: dir}, {inputValue: i}]
	  steps:
	    each:
	      component: alone
	      parallelFor: [1, 2, 3, 4]
	      parallelism: 1
	      args: {dir: "{{params.dir}}", i: "{{item}}"}
	YAML
	run_kf -0 run limit.yaml -q -j 4 -p dir="$TEST_DIR/d"
	[ "$(wc -l <d/order)" = 4 ]
}

@test "the Kubeflow [Sample] Basic pipelines in examples/basic run" {
	local f
	for f in "$KF_SRCDIR"/examples/basic/*.yaml; do
		run_kf -0 run "$f" -q
	done
	run_kf -0 run ls -o json
	[ "$(jq '[.items[] | select(.state == "Succeeded")] | length' <<<"$output")" = "$(ls "$KF_SRCDIR"/examples/basic/*.yaml | wc -l)" ]
	run_kf -0 run logs exit-handler on-exit
	assert_output --partial Succeeded
}
