#!/usr/bin/env bats
# kf run --remote and its subcommands against the protocol double of the KFP API.

load test_helper
load fixtures/2000/double

F=$FIXTURES/2002

setup_file_local() {
	start_double
	cp "$F"/*.yaml .
}

# The body of the last request to PATH, as JSON.
last_body() {
	double_query "[r for r in R if r['path'] == '$1'][-1]['body']"
}

@test "run a workflow package: the run gets the manifest as JSON, the id is printed" {
	run_kf -0 run workflow.yaml --remote "$DOUBLE_URL"
	[[ "$output" =~ ^[0-9a-f-]{36}$ ]]
	last_body /apis/v1beta1/runs >body.json
	python3 - "$PWD/workflow.yaml" <<-'PY'
	import json, sys, yaml
	body = json.load(open("body.json"))
	want = yaml.safe_load(open(sys.argv[1]))
	assert json.loads(body["pipeline_spec"]["workflow_manifest"]) == want, body
	assert body["name"].startswith("hello-pipeline 20"), body["name"]
	assert "resource_references" not in body, body
	PY
}

@test "a spec runs compiled, in an experiment created once, with parameters" {
	kf compile hello.yaml -o - >compiled.yaml
	run_kf -0 run hello.yaml --remote "$DOUBLE_URL" --experiment nightly -p message=hey --name first
	run_kf -0 run hello.yaml --remote "$DOUBLE_URL" --experiment nightly --params params.yaml --name second
	[ "$(double_query '[r["method"] + " " + r["path"] for r in R]')" = \
	  '["GET /apis/v1beta1/experiments", "POST /apis/v1beta1/experiments", "POST /apis/v1beta1/runs", "GET /apis/v1beta1/experiments", "POST /apis/v1beta1/runs"]' ]
	[ "$(double_query 'R[1]["body"]')" = '{"name": "nightly"}' ]
	exp=$(double_query 'R[1]["body"]["name"] and [r for r in R if r["method"] == "POST" and r["path"].endswith("/runs")][0]["body"]["resource_references"][0]["key"]["id"]')
	[ "$(double_query 'R[2]["body"]["resource_references"]')" = "[{\"key\": {\"id\": \"$exp\", \"type\": \"EXPERIMENT\"}, \"relationship\": \"OWNER\"}]" ]
	[ "$(double_query 'R[2]["body"]["pipeline_spec"]["parameters"]')" = '[{"name": "message", "value": "hey"}]' ]
	[ "$(double_query 'R[4]["body"]["pipeline_spec"]["parameters"]')" = '[{"name": "message", "value": "from a file"}]' ]
	[ "$(double_query 'R[4]["body"]["name"]')" = second ]
	python3 -c '
import json, sys, yaml
body = json.loads(sys.argv[1])
assert json.loads(body["pipeline_spec"]["workflow_manifest"]) == yaml.safe_load(open("compiled.yaml"))
' "$(last_body /apis/v1beta1/runs)"
}

@test "--watch follows the run through its states and exits 0" {
	run_kf -0 run workflow.yaml --remote "$DOUBLE_URL" --watch --poll 10ms --name w
	id=${lines[0]}
	[[ "$id" =~ ^[0-9a-f-]{36}$ ]]
	assert_line "run $id: Pending"
	assert_line "run $id: Running"
	assert_line "run $id: Succeeded"
	# each step's state once per change: say Pending, Succeeded; say-again
	# Pending, Running, Succeeded
	assert_line --regexp '^  say +Succeeded$'
	assert_line --regexp '^  say-again +Running$'
	assert_line --regexp '^  say-again +Succeeded$'
	assert_equal "${#lines[@]}" 9
	[ "$(double_query 'len([r for r in R if r["method"] == "GET"])')" = 2 ]
}

@test "--watch exits 1 when the run fails, naming the step" {
	double_control '{"run_phases": ["Pending", "Running", "Failed"]}'
	run_kf -1 run workflow.yaml --remote "$DOUBLE_URL" --watch --poll 10ms --name doomed
	assert_line --regexp '^  say-again +Failed: Error \(exit code 1\)$'
	assert_line 'kf: error: remote run "doomed" ended Failed'
}

@test "-o json with --watch prints the final run with its steps" {
	run_kf -0 -q -o json run workflow.yaml --remote "$DOUBLE_URL" --watch --poll 10ms --name j
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["kind"] == "RemoteRun" and d["status"] == "Succeeded", d
assert [s["name"] for s in d["steps"]] == ["say", "say-again"], d["steps"]
'
}

@test "a pipeline id runs the uploaded pipeline" {
	run_kf -0 upload workflow.yaml --host "$DOUBLE_URL" --name hello
	pid=$output
	run_kf -0 run "$pid" --remote "$DOUBLE_URL" -p message=yo
	[ "$(double_query 'R[-1]["body"]["pipeline_spec"]')" = "{\"parameters\": [{\"name\": \"message\", \"value\": \"yo\"}], \"pipeline_id\": \"$pid\"}" ]
	run_kf -2 run 00000000-0000-0000-0000-00000000000 --remote "$DOUBLE_URL"
	assert_output 'kf: error: "00000000-0000-0000-0000-00000000000" is neither a file nor a pipeline id'
}

@test "server errors: unknown parameter, 500, 401 are exit 3 with the message" {
	run_kf -3 run workflow.yaml --remote "$DOUBLE_URL" -p nosuch=1
	assert_output 'kf: error: POST /apis/v1beta1/runs: HTTP 400: Invalid input error: Unrecognized input parameter: nosuch'
	double_control '{"fail": [{"path": "/apis/v1beta1/runs", "status": 500, "message": "Internal error: etcd is down"}]}'
	run_kf -3 run workflow.yaml --remote "$DOUBLE_URL"
	assert_output 'kf: error: POST /apis/v1beta1/runs: HTTP 500: Internal error: etcd is down'
	double_control '{"token": "t"}'
	run_kf -3 run workflow.yaml --remote "$DOUBLE_URL" --token wrong
	assert_output --partial 'HTTP 401'
	refute_output --partial wrong
}

@test "ls, show and logs read the server" {
	run_kf -0 -q run workflow.yaml --remote "$DOUBLE_URL" --experiment nightly --name a --watch --poll 10ms
	id=$output
	run_kf -0 run workflow.yaml --remote "$DOUBLE_URL" --name b
	run_kf -0 run ls --remote "$DOUBLE_URL"
	assert_line --index 0 --regexp '^ID +NAME +STATUS +CREATED +FINISHED'
	[ "${#lines[@]}" = 3 ]
	run_kf -0 -o json run ls --remote "$DOUBLE_URL" --experiment nightly
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["kind"] == "RemoteRunList" and [r["name"] for r in d["items"]] == ["a"], d
'
	[ "$(double_query 'R[-1]["query"]["resource_reference_key.type"]')" = EXPERIMENT ]
	run_kf -0 run show "$id" --remote "$DOUBLE_URL"
	assert_output --regexp 'status +Succeeded'
	assert_output --regexp 'say-again +Succeeded'
	run_kf -0 -o yaml run show "$id" --remote "$DOUBLE_URL"
	assert_line 'kind: RemoteRun'
	run_kf -0 run logs "$id" say --remote "$DOUBLE_URL"
	assert_output --regexp '^log of node .*-1000'
	run_kf -0 run logs "$id" --remote "$DOUBLE_URL"
	assert_line '==> say <=='
	assert_line '==> say-again <=='
	run_kf -2 run logs "$id" sya --remote "$DOUBLE_URL"
	assert_output "kf: error: run \"$id\" has no step \"sya\" (did you mean \"say\"?)"
}

@test "terminate and retry" {
	run_kf -0 run workflow.yaml --remote "$DOUBLE_URL" --name t
	id=$output
	run_kf -3 run retry "$id" --remote "$DOUBLE_URL"
	assert_output --partial 'Workflow cannot be retried'
	run_kf -0 run terminate "$id" --remote "$DOUBLE_URL"
	assert_output "terminating run $id"
	run_kf -0 run retry "$id" --remote "$DOUBLE_URL"
	[ "$(double_query '[r["path"] for r in R if r["method"] == "POST"][-2:]')" = "[\"/apis/v1beta1/runs/$id/terminate\", \"/apis/v1beta1/runs/$id/retry\"]" ]
	run_kf -3 run terminate 00000000-0000-4000-8000-000000000000 --remote "$DOUBLE_URL"
	assert_output --partial 'HTTP 404: Run 00000000-0000-4000-8000-000000000000 not found.'
}

@test "experiments lists the server's experiments" {
	run_kf -0 run workflow.yaml --remote "$DOUBLE_URL" --experiment nightly
	run_kf -0 -o name run experiments --remote "$DOUBLE_URL"
	assert_output "Default
nightly"
}

@test "schedule: every 30m, listed, disabled, enabled, deleted" {
	run_kf -0 -q run schedule hello.yaml --remote "$DOUBLE_URL" --every 30m --max-concurrency 2 \
		--start 2026-01-01T00:00:00Z --experiment nightly -p message=tick --no-catchup
	id=$output
	[ "$(double_query 'R[-1]["body"]["trigger"]')" = '{"periodic_schedule": {"interval_second": "1800", "start_time": "2026-01-01T00:00:00Z"}}' ]
	[ "$(double_query '[R[-1]["body"][k] for k in ("max_concurrency", "enabled", "no_catchup", "name")]')" = '["2", true, true, "hello-pipeline every 30m"]' ]
	run_kf -0 run schedule hello.yaml --remote "$DOUBLE_URL" --cron '0 0 */2 * * *' --name cron
	[ "$(double_query 'R[-1]["body"]["trigger"]')" = '{"cron_schedule": {"cron": "0 0 */2 * * *"}}' ]
	run_kf -0 run schedule ls --remote "$DOUBLE_URL"
	assert_output --regexp "$id +hello-pipeline every 30m +every 30m +ENABLED +2"
	assert_output --regexp 'cron +cron 0 0 \*/2 \* \* \* +ENABLED +1'
	run_kf -0 run schedule disable "$id" --remote "$DOUBLE_URL"
	run_kf -0 -o json run schedule ls --remote "$DOUBLE_URL"
	[[ "$output" == *'"mode":'*'"DISABLED"'* ]]
	run_kf -0 run schedule enable "$id" --remote "$DOUBLE_URL"
	run_kf -0 run schedule delete "$id" --remote "$DOUBLE_URL"
	[ "$(double_query '[r["method"] + " " + r["path"] for r in R][-4:-1]')" = "[\"POST /apis/v1beta1/jobs/$id/disable\", \"GET /apis/v1beta1/jobs\", \"POST /apis/v1beta1/jobs/$id/enable\"]" ]
	[ "$(double_query 'R[-1]["method"] + " " + R[-1]["path"]')" = "DELETE /apis/v1beta1/jobs/$id" ]
}

@test "schedule refuses what the server would, before sending" {
	run_kf -2 run schedule hello.yaml --remote "$DOUBLE_URL" --cron '0 */2 * * *'
	assert_output 'kf: error: --cron "0 */2 * * *" has 5 fields; Kubeflow Pipelines wants 6, seconds first ("0 */30 * * * *")'
	run_kf -2 run schedule hello.yaml --remote "$DOUBLE_URL"
	assert_output 'kf: error: kf run schedule needs one of --every DURATION or --cron EXPR'
	run_kf -2 run schedule hello.yaml --remote "$DOUBLE_URL" --every 1h --max-concurrency 11
	run_kf -2 run schedule hello.yaml --remote "$DOUBLE_URL" --every 1h --start tomorrow
	assert_output 'kf: error: --start "tomorrow" is not an RFC 3339 time (2026-01-02T15:04:05Z)'
	[ "$(double_query 'len(R)')" = 0 ]
}

@test "--dry-run renders every request of a run, secrets masked, and sends nothing" {
	run_kf -0 run workflow.yaml --remote "$DOUBLE_URL" --experiment nightly --name d --token s3cr3t --dry-run
	assert_line --index 0 --regexp "^GET $DOUBLE_URL/apis/v1beta1/experiments\\?page_size=100&filter=%7B%22predicates"
	assert_line 'Authorization: Bearer ***'
	assert_line "POST $DOUBLE_URL/apis/v1beta1/experiments"
	assert_line '{"name":"nightly"}'
	assert_line "POST $DOUBLE_URL/apis/v1beta1/runs"
	assert_output --partial '"resource_references":[{"key":{"type":"EXPERIMENT","id":"<new experiment id>"},"relationship":"OWNER"}]'
	refute_output --partial s3cr3t
	run_kf -0 run schedule delete 1234 --remote "$DOUBLE_URL" --dry-run
	assert_output "DELETE $DOUBLE_URL/apis/v1beta1/jobs/1234"
	[ "$(double_query 'len(R)')" = 0 ]
}

@test "a remote named by KF_REMOTE (kf -r NAME) sends kf run to the server" {
	mkdir -p "$HOME/.config/kf"
	printf 'remotes:\n  lab:\n    host: %s\n    token: t0k\n' "$DOUBLE_URL" >"$HOME/.config/kf/config.yaml"
	double_control '{"token": "t0k"}'
	KF_REMOTE=lab run_kf -0 run workflow.yaml --name via-config
	[ "$(double_query 'R[-1]["body"]["name"]')" = via-config ]
	run_kf -0 run experiments --remote lab
}

@test "--namespace: experiments are created in and listed from the profile namespace" {
	run_kf -0 run workflow.yaml --remote "$DOUBLE_URL" --experiment team --namespace kubeflow-user-a
	[ "$(double_query 'R[0]["query"]["resource_reference_key.type"] + " " + R[0]["query"]["resource_reference_key.id"]')" = "NAMESPACE kubeflow-user-a" ]
	[ "$(double_query 'R[1]["body"]["resource_references"]')" = '[{"key": {"id": "kubeflow-user-a", "type": "NAMESPACE"}, "relationship": "OWNER"}]' ]
	run_kf -0 upload workflow.yaml --host "$DOUBLE_URL" --namespace kubeflow-user-a
	[ "$(double_query 'R[-1]["query"]')" = '{"namespace": "kubeflow-user-a"}' ]
}

@test "remote options need a remote; local options are refused on a cluster" {
	run_kf -2 run workflow.yaml --watch
	assert_output 'kf: error: --watch needs --remote URL (or kf -r NAME)'
	run_kf -2 run ls --experiment nightly
	assert_output 'kf: error: --experiment needs --remote URL (or kf -r NAME)'
	run_kf -2 run workflow.yaml --remote "$DOUBLE_URL" --runner docker
	assert_output 'kf: error: --runner has no meaning for a run on a cluster'
	[ "$(double_query 'len(R)')" = 0 ]
}

@test "logs -f follows the steps' logs until the run ends" {
	run_kf -0 run workflow.yaml --remote "$DOUBLE_URL" --name f
	id=$output
	run_kf -0 run logs "$id" --remote "$DOUBLE_URL" -f --poll 10ms
	assert_output --regexp "^==> say <==
log of node [^ ]+-1000
say succeeded
==> say-again <==
log of node [^ ]+-1001
say-again succeeded$"
	# created Pending; looked at twice: Running, then Succeeded
	[ "$(double_query 'len([r for r in R if r["method"] == "GET" and "/nodes/" not in r["path"]])')" = 2 ]
}
