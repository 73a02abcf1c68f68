#!/usr/bin/env bats
# kf run: the step cache.

load test_helper

F=$FIXTURES/3001

setup_file_local() {
	mkdir -p "$TEST_DIR/d"
	touch "$TEST_DIR/d/go"
}

count() {
	wc -l <"$TEST_DIR/d/$1.count"
}

@test "a second run of an unchanged pipeline executes nothing" {
	run_kf -0 run "$F/slow.yaml" -q -p dir="$TEST_DIR/d"
	first=$output
	run_kf -0 run "$F/slow.yaml" -q -p dir="$TEST_DIR/d"
	second=$output
	[ "$(count a)" = 1 ] && [ "$(count b)" = 1 ] && [ "$(count c)" = 1 ]
	run_kf -0 run show "$second" -o json
	[ "$(jq -r '[.tasks[].state] | unique | join(",")' <<<"$output")" = Cached ]
	[ "$(jq -r '[.tasks[].cached] | all' <<<"$output")" = true ]
	# the same outputs, by digest
	a=$(kf --store "$KF_STORE" run show "$first" -o json | jq -r '.tasks[] | select(.name=="c") | .outputs.artifacts.out.digest')
	b=$(jq -r '.tasks[] | select(.name=="c") | .outputs.artifacts.out.digest' <<<"$output")
	[ "$a" = "$b" ]
	# recorded as CACHED executions in ML Metadata
	[ "$(sqlite3 "$KF_STORE/kf.db" 'SELECT count(*) FROM Execution WHERE last_known_state = 5')" = 3 ]
}

@test "a changed parameter reruns only the steps it reaches" {
	run_kf -0 run "$FIXTURES/3001/basic.yaml" -q
	run_kf -0 run "$FIXTURES/3001/basic.yaml" -q -p items='["x","y","w"]'
	run_kf -0 run show "$output" -o json
	[ "$(jq -r '.tasks[] | select(.name=="first") | .state' <<<"$output")" = Cached ]
	[ "$(jq -r '.tasks[] | select(.name=="each[1]") | .state' <<<"$output")" = Cached ]
	[ "$(jq -r '.tasks[] | select(.name=="each[2]") | .state' <<<"$output")" = Succeeded ]
	[ "$(jq -r '.tasks[] | select(.name=="on-exit") | .state' <<<"$output")" = Succeeded ]
}

@test "--no-cache runs every step again" {
	run_kf -0 run "$F/slow.yaml" -q -p dir="$TEST_DIR/d"
	run_kf -0 run "$F/slow.yaml" -q --no-cache -p dir="$TEST_DIR/d"
	[ "$(count a)" = 2 ] && [ "$(count c)" = 2 ]
}

@test "--max-cache-staleness: older results are not reused" {
	run_kf -0 run "$F/slow.yaml" -q -p dir="$TEST_DIR/d"
	run_kf -0 run "$F/slow.yaml" -q --max-cache-staleness 1h -p dir="$TEST_DIR/d"
	[ "$(count a)" = 1 ]
	sleep 1.1
	run_kf -0 run "$F/slow.yaml" -q --max-cache-staleness 1s -p dir="$TEST_DIR/d"
	[ "$(count a)" = 2 ]
}

@test "cache: false on a step always runs it" {
	cat >nocache.yaml <<-'YAML'
	apiVersion: kf/v1
	kind: Pipeline
	metadata: {name: nocache}
	spec:
	  params:
	    dir: {type: String}
	  components:
	    touch:
	      name: touch
	      inputs: [{name: f}]
	      implementation:
	        container: {image: busybox, command: [sh, -c, 'echo x >> "$0"', {inputValue: f}]}
	  steps:
	    kept: {component: touch, args: {f: "{{params.dir}}/kept"}}
	    fresh: {component: touch, args: {f: "{{params.dir}}/fresh"}, cache: false}
	YAML
	run_kf -0 run nocache.yaml -q -p dir="$TEST_DIR/d"
	run_kf -0 run nocache.yaml -q -p dir="$TEST_DIR/d"
	[ "$(wc -l <d/kept)" = 1 ]
	[ "$(wc -l <d/fresh)" = 2 ]
}

@test "a cached result whose artifact is gone is recomputed" {
	run_kf -0 run "$F/slow.yaml" -q -p dir="$TEST_DIR/d"
	chmod -R u+w "$KF_STORE/artifacts"
	rm -rf "$KF_STORE/artifacts/sha256"
	run_kf -0 run "$F/slow.yaml" -q -p dir="$TEST_DIR/d"
	[ "$(count a)" = 2 ]
}
