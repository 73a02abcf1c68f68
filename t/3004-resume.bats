#!/usr/bin/env bats
# kf run: interruption, kill -9 and resume.

load test_helper

F=$FIXTURES/3001

need_sqlite3() {
	command -v sqlite3 >/dev/null || skip "sqlite3 (the CLI) is not installed"
}

# Wait (at most 10 s) until step a's success is in the store: kf commits
# what happened at most 50 ms after it happened.
wait_recorded() {
	local i=0
	until kf --store "$KF_STORE" run show slow -o json 2>/dev/null |
		jq -e '.tasks[] | select(.name == "a" and .state == "Succeeded")' >/dev/null; do
		i=$((i + 1))
		[ $i -gt 200 ] && { echo "timed out waiting for a to be recorded"; return 1; }
		sleep 0.05
	done
}

# Wait (at most 10 s) until a file exists.
wait_for() {
	local i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && { echo "timed out waiting for $1"; return 1; }
		sleep 0.05
	done
}

@test "kill -9 mid-run, then resume: completed steps are not redone, the store is sound" {
	need_sqlite3
	mkdir d
	"$KF_BIN" --store "$KF_STORE" run "$F/slow.yaml" -q -p dir="$TEST_DIR/d" >out 2>err &
	pid=$!
	wait_for d/b.count
	wait_recorded
	kill -9 "$pid"
	wait "$pid" || true
	run_kf -0 run ls -o json
	id=$(jq -r '.items[0].name' <<<"$output")
	[ "$(jq -r '.items[0].state' <<<"$output")" = Running ]
	touch d/go
	run_kf -0 run resume "$id" -q
	[ "$output" = "$id" ]
	run_kf -0 run show "$id" -o json
	[ "$(jq -r .state <<<"$output")" = Succeeded ]
	[ "$(wc -l <d/a.count)" = 1 ]
	[ "$(wc -l <d/c.count)" = 1 ]
	[ "$(sqlite3 "$KF_STORE/kf.db" 'PRAGMA integrity_check')" = ok ]
	while IFS='|' read -r uri digest; do
		[ "$(sha256sum "$uri" | cut -c1-64)" = "$digest" ]
	done < <(sqlite3 "$KF_STORE/kf.db" "SELECT uri, digest FROM Artifact")
	[ -z "$(ls -A "$KF_STORE/artifacts/tmp")" ]
}

@test "the output of a resumed run is the same as an uninterrupted one" {
	mkdir d
	"$KF_BIN" --store "$KF_STORE" run "$F/slow.yaml" -q -p dir="$TEST_DIR/d" >out 2>err &
	pid=$!
	wait_for d/b.count
	wait_recorded
	kill -9 "$pid"
	wait "$pid" || true
	touch d/go
	run_kf -0 run resume slow -q
	run_kf -0 run show slow -o json
	uri=$(jq -r '.tasks[] | select(.name=="c") | .outputs.artifacts.out.uri' <<<"$output")
	[ "$(cat "$uri")" = "$(printf 'a\nb\nc')" ]
}

@test "Ctrl-C: steps are stopped, the run is Interrupted, exit 130; resume finishes it" {
	mkdir d
	"$KF_BIN" --store "$KF_STORE" run "$F/slow.yaml" -q -p dir="$TEST_DIR/d" >out 2>err &
	pid=$!
	wait_for d/b.count
	wait_recorded
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" = 130 ]
	grep -q interrupted err
	run_kf -0 run show slow -o json
	[ "$(jq -r .state <<<"$output")" = Interrupted ]
	[ "$(jq -r '.tasks[] | select(.name=="c") | .state' <<<"$output")" = Omitted ]
	touch d/go
	run_kf -0 run resume slow -q
	[ "$(wc -l <d/a.count)" = 1 ]
	[ "$(wc -l <d/b.count)" = 2 ]
}

@test "SIGTERM stops a run the same way" {
	mkdir d
	"$KF_BIN" --store "$KF_STORE" run "$F/slow.yaml" -q -p dir="$TEST_DIR/d" >out 2>err &
	pid=$!
	wait_for d/b.count
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" = 130 ]
}

@test "resume refuses a run that succeeded, and an unknown run" {
	mkdir d
	touch d/go
	run_kf -0 run "$F/slow.yaml" -q -p dir="$TEST_DIR/d"
	run_kf -2 run resume "$output"
	assert_output --partial "already succeeded"
	run_kf -2 run resume nosuch
	assert_output --partial 'no run "nosuch"'
}

@test "a failed run can be resumed after fixing what failed" {
	mkdir d
	cat >flaky.yaml <<-'YAML'
	apiVersion: kf/v1
	kind: Pipeline
	metadata: {name: flaky}
	spec:
	  params:
	    dir: {type: String}
	  components:
	    need:
	      name: need
	      inputs: [{name: f}]
	      implementation:
	        container: {image: busybox, command: [sh, -c, 'echo x >> "$0.count"; test -e "$0"', {inputValue: f}]}
	  steps:
	    one: {component: need, args: {f: "{{params.dir}}/one"}}
	    two: {component: need, args: {f: "{{params.dir}}/two"}, after: [one]}
	YAML
	touch d/one
	run_kf -1 run flaky.yaml -q -p dir="$TEST_DIR/d"
	touch d/two
	run_kf -0 run resume flaky -q
	[ "$(wc -l <d/one.count)" = 1 ]
	[ "$(wc -l <d/two.count)" = 2 ]
}

@test "onExit runs again on resume and reports the new status" {
	mkdir d
	cat >exit.yaml <<-'YAML'
	apiVersion: kf/v1
	kind: Pipeline
	metadata: {name: exitres}
	spec:
	  params:
	    dir: {type: String}
	  components:
	    need:
	      name: need
	      inputs: [{name: f}]
	      implementation:
	        container: {image: busybox, command: [test, -e, {inputValue: f}]}
	    say:
	      name: say
	      inputs: [{name: msg}]
	      implementation:
	        container: {image: busybox, command: [echo, {inputValue: msg}]}
	  steps:
	    one: {component: need, args: {f: "{{params.dir}}/one"}}
	  onExit: {component: say, args: {msg: "status {{run.status}}"}}
	YAML
	run_kf -1 run exit.yaml -q -p dir="$TEST_DIR/d"
	run_kf -0 run logs exitres on-exit
	assert_output "status Failed"
	touch d/one
	run_kf -0 run resume exitres -q
	run_kf -0 run logs exitres on-exit
	assert_output --partial "status Succeeded"
}
