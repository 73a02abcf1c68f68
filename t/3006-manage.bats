#!/usr/bin/env bats
# kf run ls / show / logs / rm, --detach, --name, --runner.

load test_helper

F=$FIXTURES/3001

@test "ls lists runs newest first, in every format" {
	run_kf -0 run "$F/basic.yaml" -q --name first-run
	one=$output
	run_kf -0 run "$F/basic.yaml" -q --name second-run
	two=$output
	[[ $two == second-run-* ]]
	run_kf -0 run ls -o name
	[ "$output" = "$two
$one" ]
	run_kf -0 run ls -o json
	[ "$(jq -r .kind <<<"$output")" = RunList ]
	[ "$(jq -r '.items[0].runName' <<<"$output")" = second-run ]
	run_kf -0 run ls -o yaml
	assert_output --partial "kind: RunList"
	run_kf -0 run ls --limit 1 -o name
	[ "$output" = "$two" ]
	run_kf -0 run ls
	assert_output --partial "RUN"
	assert_output --partial "Succeeded"
}

@test "show takes an id, a unique prefix or a name" {
	run_kf -0 run "$F/basic.yaml" -q
	id=$output
	run_kf -0 run show "$id" -o name
	[ "$output" = "$id" ]
	run_kf -0 run show "${id:0:8}" -o name
	[ "$output" = "$id" ]
	run_kf -0 run show basic -o name
	[ "$output" = "$id" ]
	run_kf -0 run show "$id"
	assert_output --partial "state Succeeded"
	assert_output --partial "second"
	run_kf -2 run show nosuch
	assert_output --partial 'no run "nosuch"'
}

@test "show on an ambiguous prefix says so" {
	run_kf -0 run "$F/basic.yaml" -q
	run_kf -0 run "$F/basic.yaml" -q --no-cache
	run_kf -2 run show basic-
	assert_output --partial "ambiguous"
}

@test "logs prints every task's output, or one step's" {
	run_kf -0 run "$F/basic.yaml" -q
	id=$output
	run_kf -0 run logs "$id"
	assert_output --partial "big: big 43"
	assert_output --partial "each[1]: item y"
	run_kf -0 run logs "$id" "each[1]"
	[ "$output" = "item y" ]
	run_kf -2 run logs "$id" nosuch
	assert_output --partial 'has no step "nosuch"'
}

@test "--detach prints the id at once; logs -f follows to the end" {
	mkdir d
	run_kf -0 run "$FIXTURES/3001/slow.yaml" --detach -p dir="$TEST_DIR/d"
	id=$output
	[[ $id == slow-* ]]
	( sleep 0.5; touch d/go ) &
	run_kf -0 run logs "$id" -f
	i=0
	while kf --store "$KF_STORE" run show "$id" -o json | jq -e '.state == "Running"' >/dev/null; do
		i=$((i + 1)); [ $i -lt 200 ]; sleep 0.05
	done
	run_kf -0 run show "$id" -o json
	[ "$(jq -r .state <<<"$output")" = Succeeded ]
	[ -f "$KF_STORE/runs/$id/kf.log" ]
}

@test "rm deletes the run and its logs, keeps lineage" {
	run_kf -0 run "$F/basic.yaml" -q
	id=$output
	run_kf -0 run rm "$id"
	[ "$output" = "$id" ]
	[ ! -e "$KF_STORE/runs/$id" ]
	run_kf -2 run show "$id"
	run_kf -0 run ls -o json
	[ "$(jq '.items | length' <<<"$output")" = 0 ]
	if command -v sqlite3 >/dev/null; then
		[ "$(sqlite3 "$KF_STORE/kf.db" 'SELECT count(*) > 0 FROM Execution')" = 1 ]
	fi
	run_kf -2 run rm "$id"
}

@test "--runner docker needs a working engine: exit 3 before anything runs" {
	if docker info >/dev/null 2>&1; then
		skip "a docker engine works here"
	fi
	run_kf -3 run "$F/basic.yaml" --runner docker
	assert_output --partial 'runner "docker"'
	run_kf -0 run ls -o json
	[ "$(jq '.items | length' <<<"$output")" = 0 ]
}

@test "--runner docker runs steps in their images (needs:docker)" {
	docker info >/dev/null 2>&1 || skip "needs:docker: no working docker engine"
	run_kf -0 run "$F/basic.yaml" -q --runner docker
	run_kf -0 run logs "$output" big
	assert_output "big 43"
}

@test "--runner docker: each step is one 'docker run' argv with the same mounts, no shell" {
	# a stand-in docker that logs its argv and runs the command after the image
	mkdir bin
	cat >bin/docker <<-'SH'
	#!/bin/sh
	[ "$1" = info ] && exit 0
	printf '%s\n' "$@" >>"$DOCKER_LOG"
	echo --- >>"$DOCKER_LOG"
	shift
	while [ $# -gt 0 ]; do case $1 in --*) shift ;; *) break ;; esac; done
	shift
	exec "$@"
	SH
	chmod +x bin/docker
	export DOCKER_LOG=$TEST_DIR/docker.log
	PATH=$TEST_DIR/bin:$PATH run_kf -0 run "$F/argv.yaml" -q --runner docker -p 'v=$(touch pwned)'
	id=$output
	run_kf -0 run logs "$id" print
	[ "$output" = '[$(touch pwned)]' ]
	[ -z "$(find "$TEST_DIR" -name 'pwned*')" ]
	grep -qx -- "--volume=$KF_STORE/runs/$id/print:$KF_STORE/runs/$id/print" docker.log
	grep -qx -- "--volume=$KF_STORE/artifacts:$KF_STORE/artifacts:ro" docker.log
	grep -qx -- "--workdir=$KF_STORE/runs/$id/print/work" docker.log
	grep -qx -- "--user=$(id -u):$(id -g)" docker.log
	grep -qx -- "--entrypoint=" docker.log
	grep -qx -- busybox docker.log
	grep -qx -- '$(touch pwned)' docker.log
}
