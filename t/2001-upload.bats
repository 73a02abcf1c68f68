#!/usr/bin/env bats
# kf upload against the protocol double of the KFP API server.

load test_helper
load fixtures/2000/double

F=$FIXTURES/2001

setup_file_local() {
	start_double
	cp "$F/pipeline.yaml" .
	mkdir pkg && cp "$F/pipeline.yaml" pkg/pipeline.yaml
	tar -C pkg -czf pipeline.tar.gz pipeline.yaml
}

@test "upload a .tar.gz: prints the id, the server gets the very bytes" {
	run_kf -0 upload pipeline.tar.gz --host "$DOUBLE_URL"
	[[ "$output" =~ ^[0-9a-f-]{36}$ ]]
	cmp pipeline.tar.gz "$DOUBLE_DIR/uploads/$output"
	[ "$(double_query 'R[0]["multipart"]["uploadfile"]["filename"]')" = pipeline.tar.gz ]
	[ "$(double_query 'R[0]["content_type"]')" = multipart/form-data ]
}

@test "upload a .yaml workflow and a .zip, with name and description" {
	run_kf -0 upload pipeline.yaml --host "$DOUBLE_URL" --name hello --description "says hi"
	id=$output
	cmp pipeline.yaml "$DOUBLE_DIR/uploads/$id"
	[ "$(double_query 'R[0]["query"]')" = '{"description": "says hi", "name": "hello"}' ]
	python3 -c 'import zipfile,sys; z=zipfile.ZipFile("p.zip","w",zipfile.ZIP_DEFLATED); z.write("pipeline.yaml"); z.close()'
	run_kf -0 upload p.zip --host "$DOUBLE_URL" --name hello-zip
	cmp p.zip "$DOUBLE_DIR/uploads/$output"
}

@test "-o json prints the server's object with its kind" {
	run_kf -0 -o json upload pipeline.tar.gz --host "$DOUBLE_URL" --name hello
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["kind"] == "Pipeline", d
assert d["name"] == "hello", d
assert d["parameters"] == [{"name": "message", "value": "hi"}], d
'
}

@test "--version-of NAME looks the pipeline up and uploads a version" {
	run_kf -0 upload pipeline.tar.gz --host "$DOUBLE_URL" --name hello
	pid=$output
	run_kf -0 -o json upload pipeline.yaml --host "$DOUBLE_URL" --version-of hello --name v2
	[[ "$output" == *'"kind":'*'"PipelineVersion"'* ]]
	[ "$(double_query 'R[1]["method"] + " " + R[1]["path"]')" = "GET /apis/v1beta1/pipelines" ]
	[ "$(double_query 'json.loads(R[1]["query"]["filter"])["predicates"][0]["string_value"]')" = hello ]
	[ "$(double_query 'R[2]["path"]')" = /apis/v1beta1/pipelines/upload_version ]
	[ "$(double_query 'R[2]["query"]["pipelineid"]')" = "$pid" ]
	run_kf -0 upload pipeline.yaml --host "$DOUBLE_URL" --version-of "$pid" --name v3
	[ "$(double_query 'R[-1]["query"]["pipelineid"]')" = "$pid" ]
	run_kf -2 upload pipeline.yaml --host "$DOUBLE_URL" --version-of nosuch
	assert_output 'kf: error: no pipeline "nosuch" on the server'
}

@test "a server error is shown verbatim with exit 3" {
	run_kf -0 upload pipeline.tar.gz --host "$DOUBLE_URL" --name dup
	run_kf -3 upload pipeline.tar.gz --host "$DOUBLE_URL" --name dup
	assert_output 'kf: error: POST /apis/v1beta1/pipelines/upload: HTTP 409: Failed to upload pipeline: The name dup already exist. Please specify a new name.'
	double_control '{"fail": [{"method": "POST", "status": 500, "message": "internal: database is locked"}]}'
	run_kf -3 upload pipeline.tar.gz --host "$DOUBLE_URL" --name other
	assert_output 'kf: error: POST /apis/v1beta1/pipelines/upload: HTTP 500: internal: database is locked'
}

@test "bearer tokens: --token, --token-file, KF_TOKEN; 401 without" {
	double_control '{"token": "s3cr3t-t0ken"}'
	run_kf -3 upload pipeline.tar.gz --host "$DOUBLE_URL" --name a
	assert_output --partial 'HTTP 401: Unauthorized: invalid or missing bearer token (check the token or the cookie file)'
	run_kf -0 upload pipeline.tar.gz --host "$DOUBLE_URL" --name a --token s3cr3t-t0ken
	printf 's3cr3t-t0ken\n' >token
	run_kf -0 upload pipeline.tar.gz --host "$DOUBLE_URL" --name b --token-file token
	KF_TOKEN=s3cr3t-t0ken run_kf -0 upload pipeline.tar.gz --host "$DOUBLE_URL" --name c
	[ "$(double_query 'R[-1]["authorization"]')" = "Bearer s3cr3t-t0ken" ]
	: >empty
	run_kf -3 upload pipeline.tar.gz --host "$DOUBLE_URL" --token-file empty
	assert_output 'kf: error: token file "empty" is empty'
}

@test "cookies from a Netscape cookie file; -v masks token and cookie values" {
	double_control '{"cookie": "authservice_session=c00kie-value"}'
	printf '# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tauthservice_session\tc00kie-value\nother.example.com\tFALSE\t/\tFALSE\t0\tforeign\tnope\n' >cookies.txt
	run_kf -0 -v upload pipeline.tar.gz --host "$DOUBLE_URL" --cookie-file cookies.txt --token s3cr3t-t0ken
	assert_output --partial '> Cookie: authservice_session=***'
	assert_output --partial '> Authorization: Bearer ***'
	refute_output --partial 'c00kie-value'
	refute_output --partial 's3cr3t-t0ken'
	refute_output --partial 'foreign'
	[ "$(double_query 'R[-1]["cookie"]')" = "authservice_session=c00kie-value" ]
	double_control '{"cookie": "authservice_session=c00kie-value", "login_redirect": "https://kf.example.com/dex/auth?client_id=kubeflow"}'
	run_kf -3 upload pipeline.tar.gz --host "$DOUBLE_URL"
	assert_output 'kf: error: POST /apis/v1beta1/pipelines/upload: HTTP 302: redirected to "https://kf.example.com/dex/auth?client_id=kubeflow": a login page? (check the cookie file or the token)'
	run_kf -3 upload pipeline.tar.gz --host "$DOUBLE_URL" --cookie-file missing.txt
	assert_output --partial 'cookie file: cannot open "missing.txt"'
}

@test "--dry-run prints the request with secrets masked and sends nothing" {
	printf '127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tc00kie-value\n' >cookies.txt
	run_kf -0 upload pipeline.tar.gz --host "$DOUBLE_URL" --name hello --token s3cr3t-t0ken \
		--cookie-file cookies.txt --dry-run
	sum=$(sha256sum pipeline.tar.gz | cut -d' ' -f1)
	size=$(wc -c <pipeline.tar.gz)
	assert_output "POST $DOUBLE_URL/apis/v1beta1/pipelines/upload?name=hello
Authorization: Bearer ***
Cookie: session=***
Content-Type: multipart/form-data

[form field \"uploadfile\": file \"pipeline.tar.gz\", $size bytes, sha256 $sum]"
	[ "$(double_query 'len(R)')" = 0 ]
}

@test "a connection dropped mid-upload is exit 3 and is not retried" {
	double_control '{"drop_upload": true}'
	run_kf -3 upload pipeline.tar.gz --host "$DOUBLE_URL"
	assert_output --regexp '^kf: error: POST http://127.0.0.1:[0-9]+/apis/v1beta1/pipelines/upload: '
	[ "$(double_query 'len(R)')" = 1 ]
	[ "$(double_query 'R[0]["dropped"]')" = true ]
}

@test "timeouts: an upload is tried once, a lookup is retried" {
	double_control '{"hang": [{"method": "POST", "seconds": 4}]}'
	run_kf -3 upload pipeline.tar.gz --host "$DOUBLE_URL" --timeout 1s
	assert_output "kf: error: POST $DOUBLE_URL/apis/v1beta1/pipelines/upload: no answer within 1s"
	[ "$(double_query 'len(R)')" = 1 ]
	double_control '{"hang": [{"method": "GET", "seconds": 4, "times": 1}], "fail": [{"method": "GET", "status": 503, "times": 1}]}'
	run_kf -0 upload pipeline.tar.gz --host "$DOUBLE_URL" --name base
	run_kf -0 upload pipeline.yaml --host "$DOUBLE_URL" --version-of base --name v2 --timeout 1s
	# hung, then 503, then answered
	[ "$(double_query 'len([r for r in R if r["method"] == "GET"])')" = 3 ]
	double_control '{"hang": [{"method": "GET", "seconds": 4}]}'
	run_kf -3 upload pipeline.yaml --host "$DOUBLE_URL" --version-of base --name v3 --timeout 1s
	assert_output --partial 'no answer within 1s, 3 times'
}

@test "unreachable server and bad URLs" {
	port=$(free_port)
	run_kf -3 upload pipeline.tar.gz --host "http://127.0.0.1:$port"
	assert_output --regexp "^kf: error: POST http://127.0.0.1:$port/apis/v1beta1/pipelines/upload: .*(refused|connect)"
	run_kf -2 upload pipeline.tar.gz --host "ftp://example.com"
	assert_output 'kf: error: "ftp://example.com" is not an http or https URL'
	run_kf -2 upload pipeline.tar.gz
	assert_output 'kf: error: no remote given: use --remote URL, -r NAME, KF_HOST, or a default in the config file'
	KF_HOST=$DOUBLE_URL run_kf -0 upload pipeline.tar.gz
}

@test "what the server would refuse is refused before sending" {
	echo hello >notes.txt
	run_kf -2 upload notes.txt --host "$DOUBLE_URL"
	assert_output --partial 'notes.txt'
	{ printf '\037\213'; head -c 33554432 /dev/zero; } >big.tar.gz
	run_kf -2 upload big.tar.gz --host "$DOUBLE_URL"
	assert_output 'kf: error: "big.tar.gz" is 33554434 bytes; the API server takes at most 32 MiB'
	cp "$F/not-a-workflow.yaml" .
	run_kf -2 upload not-a-workflow.yaml --host "$DOUBLE_URL"
	assert_line --index 0 'not-a-workflow.yaml:1:1: error: not an Argo Workflow (apiVersion argoproj.io/v1alpha1, kind Workflow) nor a kf pipeline spec'
	[ "$(double_query 'len(R)')" = 0 ]
}

@test "named remotes from the config file, KF_REMOTE and the default" {
	mkdir -p "$HOME/.config/kf"
	printf 's3cr3t-t0ken\n' >"$HOME/lab.token"
	cat >"$HOME/.config/kf/config.yaml" <<-EOF
	default: lab
	remotes:
	  lab:
	    host: $DOUBLE_URL/
	    token-file: ~/lab.token
	  broken:
	    hots: http://x
	EOF
	double_control '{"token": "s3cr3t-t0ken"}'
	run_kf -0 upload pipeline.tar.gz --host lab --name one
	KF_REMOTE=lab run_kf -0 upload pipeline.tar.gz --name two
	run_kf -0 upload pipeline.tar.gz --name three
	[ "$(double_query '[r["path"] for r in R]')" = '["/apis/v1beta1/pipelines/upload", "/apis/v1beta1/pipelines/upload", "/apis/v1beta1/pipelines/upload"]' ]
	run_kf -2 upload pipeline.tar.gz --host lba
	assert_output "kf: error: no remote \"lba\" in \"$HOME/.config/kf/config.yaml\" (did you mean \"lab\"?)"
	run_kf -2 upload pipeline.tar.gz --host broken
	assert_output --partial "config.yaml:7:5: error: unknown remote setting \"hots\" (did you mean \"host\"?)"
	# the remote's own token wins over one exported for another cluster
	KF_TOKEN=other-cluster run_kf -0 upload pipeline.tar.gz --host lab --name four
	[ "$(double_query 'R[-1]["authorization"]')" = "Bearer s3cr3t-t0ken" ]
	run_kf -3 upload pipeline.tar.gz --host lab --name five --token wrong
}

@test "upload a spec: compiled to the very bytes kf compile writes, named after the pipeline" {
	cp "$F/hello.yaml" .
	run_kf -0 compile hello.yaml -o compiled.tar.gz
	run_kf -0 upload hello.yaml --host "$DOUBLE_URL"
	cmp compiled.tar.gz "$DOUBLE_DIR/uploads/$output"
	[ "$(double_query 'R[0]["query"]["name"]')" = hello-pipeline ]
	[ "$(double_query 'R[0]["multipart"]["uploadfile"]["filename"]')" = hello.tar.gz ]
	run_kf -0 -o json upload hello.yaml --host "$DOUBLE_URL" --name hello-2
	[[ "$output" == *'"parameters":'*'"name":'*'"message"'* ]]
}

@test "a spec with errors is reported at its place and nothing is sent" {
	cp "$F/broken.yaml" .
	run_kf -2 upload broken.yaml --host "$DOUBLE_URL"
	assert_line --index 0 'broken.yaml:8:18: error: step "say": unknown component "nosuch"'
	[ "$(double_query 'len(R)')" = 0 ]
}

@test "TLS: the server is verified unless --insecure; --ca-file and the config's ca-file" {
	teardown_local
	make_certs
	start_double kfp --tls-cert srv.pem --tls-key srv.key
	[[ "$DOUBLE_URL" == https://* ]]
	run_kf -3 upload pipeline.tar.gz --host "$DOUBLE_URL" --name a
	assert_output --regexp 'certificate'
	run_kf -0 upload pipeline.tar.gz --host "$DOUBLE_URL" --name b --ca-file ca.pem
	run_kf -0 upload pipeline.tar.gz --host "$DOUBLE_URL" --name c --insecure
	run_kf -3 upload pipeline.tar.gz --host "$DOUBLE_URL" --ca-file nosuch.pem
	assert_output 'kf: error: CA file "nosuch.pem" does not exist'
	mkdir -p "$HOME/.config/kf"
	printf 'remotes:\n  tls:\n    host: %s\n    ca-file: %s\n' "$DOUBLE_URL" "$PWD/ca.pem" >"$HOME/.config/kf/config.yaml"
	run_kf -0 upload pipeline.tar.gz --host tls --name d
	[ "$(double_query '[r["query"]["name"] for r in R]')" = '["b", "c", "d"]' ]
}
