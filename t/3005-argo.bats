#!/usr/bin/env bats
# kf run PACKAGE: Argo Workflows from kf compile and from the KFP v1 SDK.

load test_helper

C=$SHARED/anchors/kfp-v1/compiled

need_anchor() {
	[ -f "$C/$1" ] || skip "../shared/anchors/kfp-v1/compiled/$1 not present"
}

need_python() {
	command -v python >/dev/null || skip "needs a 'python' on PATH: the step runs the image's python"
}

@test "kf compile's own packages run, .tar.gz, .zip and .yaml, with the same results" {
	local ext
	for ext in tar.gz zip yaml; do
		run_kf -0 compile "$FIXTURES/3001/basic.yaml" -o "basic.$ext"
		run_kf -0 run "basic.$ext" -q
		id=$output
		run_kf -0 run logs "$id" big
		assert_output "big 43"
		run_kf -0 run logs "$id" on-exit
		assert_output "run ended Succeeded"
		run_kf -0 run show "$id" -o json
		[ "$(jq -r '.tasks[] | select(.name=="small") | .state' <<<"$output")" = Skipped ]
	done
}

@test "the basic examples run from their compiled packages" {
	local f
	for f in "$KF_SRCDIR"/examples/basic/*.yaml; do
		run_kf -0 compile "$f" -o pkg.tar.gz
		run_kf -0 run pkg.tar.gz -q
	done
}

@test "KFP v1: withItems over a list of dicts (withitem_basic)" {
	need_anchor withitem_basic.yaml
	run_kf -0 run "$C/withitem_basic.yaml" -q
	id=$output
	run_kf -0 run show "$id" -o json
	[ "$(jq '[.tasks[] | select(.step == "my-in-coop1")] | length' <<<"$output")" = 2 ]
	run_kf -0 run logs "$id" my-in-coop1
	assert_output --partial "my-in-coop1[0]: op1 1 10"
	assert_output --partial "my-in-coop1[1]: op1 10 10"
}

@test "KFP v1: withParam over a workflow parameter (withparam_global)" {
	need_anchor withparam_global.yaml
	run_kf -0 run "$C/withparam_global.yaml" -q
	run_kf -0 run show "$output" -o json
	[ "$(jq '[.tasks[] | select(.step == "my-in-cop1")] | length' <<<"$output")" = 4 ]
}

@test "KFP v1: withParam over a task output (withparam_output)" {
	need_anchor withparam_output.yaml
	need_python
	run_kf -0 run "$C/withparam_output.yaml" -q
	run_kf -0 run show "$output" -o json
	[ "$(jq '[.tasks[] | select(.step == "my-in-cop1")] | length' <<<"$output")" = 11 ]
}

@test "KFP v1: nested conditions pass values up through dag outputs (coin)" {
	need_anchor coin.yaml
	need_python
	run_kf -0 run "$C/coin.yaml" -q
	run_kf -0 run show "$output" -o json
	flip=$(jq -r '.tasks[] | select(.name=="flip") | .outputs.values["flip-output"]' <<<"$output")
	[[ $flip == heads || $flip == tails ]]
	if [ "$flip" = tails ]; then
		[ "$(jq -r '.tasks[] | select(.name=="flip-again") | .state' <<<"$output")" = Skipped ]
	fi
}

@test "KFP v1: exit handler and file outputs (basic), parameters required" {
	need_anchor basic.yaml
	run_kf -2 run "$C/basic.yaml"
	assert_output --partial 'parameter "message" has no value'
}

@test "KFP v1: lightweight components and a loop over their output" {
	need_anchor loop_over_lightweight_output.yaml
	run_kf -0 run "$C/loop_over_lightweight_output.yaml" -q
	run_kf -0 run show "$output" -o json
	[ "$(jq -r .state <<<"$output")" = Succeeded ]
}

@test "KFP v1: retryStrategy and activeDeadlineSeconds become retries and timeout" {
	need_anchor timeout.yaml
	need_anchor preemptible_tpu_gpu.yaml
	# the steps fail at random by design: only the import is checked here
	run "$KF_BIN" --store "$KF_STORE" run "$C/timeout.yaml" -q
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
}

@test "constructs that cannot run locally are clear errors naming the template and field" {
	need_anchor volume.yaml
	run_kf -2 run "$C/volume.yaml"
	assert_output --partial 'template "download": container.volumeMounts'
	run_kf -2 run "$C/artifact_passing_using_volume.yaml"
	assert_output --partial 'spec.volumes'
	run_kf -2 run "$C/pipelineparams.yaml"
	assert_output --partial 'sidecars cannot run locally'
	run_kf -0 run ls -o json
	[ "$(jq '.items | length' <<<"$output")" = 0 ]
}

@test "a resource template is refused before anything runs" {
	cat >res.yaml <<-'YAML'
	apiVersion: argoproj.io/v1alpha1
	kind: Workflow
	metadata: {generateName: res-}
	spec:
	  entrypoint: main
	  templates:
	  - name: main
	    dag:
	      tasks:
	      - {name: make, template: make-cm}
	  - name: make-cm
	    resource:
	      action: create
	      manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}"
	YAML
	run_kf -2 run res.yaml
	assert_output --partial 'res.yaml:12:5: error: template "make-cm": "resource" templates cannot run locally'
}

@test "a package whose steps run their images' own programs runs with --runner docker (bagging)" {
	need_anchor bagging_pipelines.yaml
	docker info >/dev/null 2>&1 || skip "needs:docker: its steps run python files that exist only in their images"
	run_kf -0 run "$C/bagging_pipelines.yaml" -q --runner docker
}
