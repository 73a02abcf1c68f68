#!/usr/bin/env bats
# kf serve: every endpoint and format, errors, the repository, batching,
# auth, limits and shutdown. Each test starts its own server on a free
# loopback port and stops it (teardown kills what is left).

load test_helper

setup_file_local() {
	command -v curl >/dev/null || skip "curl is not installed"
	cp -r "$FIXTURES/7001/taxi" "$TEST_DIR/taxi"
	mkdir -p "$TEST_DIR/repo"
	cp -r "$FIXTURES/7001/taxi" "$TEST_DIR/repo/taxi"
	SERVER_PID=
}

teardown_local() {
	if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$SERVER_PID" 2>/dev/null
	fi
	[ -z "${BG_PID:-}" ] || kill -9 "$BG_PID" 2>/dev/null || true
	return 0
}



# call METHOD PATH [BODY [CURL ARGS...]]: sets code, body and headers.
call() {
	local method=$1 path=$2 data=${3:-}
	shift 3 2>/dev/null || shift $#
	if [ -n "$data" ]; then
		code=$(curl -s -o "$TEST_DIR/body" -D "$TEST_DIR/headers" -w '%{http_code}' -X "$method" \
			-H 'Content-Type: application/json' --data-binary "$data" "$@" "$URL$path")
	else
		code=$(curl -s -o "$TEST_DIR/body" -D "$TEST_DIR/headers" -w '%{http_code}' -X "$method" "$@" "$URL$path")
	fi
	body=$(cat "$TEST_DIR/body")
	headers=$(tr -d '\r' <"$TEST_DIR/headers")
}

# expect CODE BODY: the last call's status and exact body.
expect() {
	[ "$code" = "$1" ] && [ "$body" = "$2" ] && return 0
	echo "want $1 $2"
	echo "got  $code $body"
	return 1
}

oip_check() {
	python3 -c 'import yaml' 2>/dev/null || skip "python3 with PyYAML is needed to check V2 bodies"
	[ -f "$SHARED/anchors/protocols/open_inference_rest.yaml" ] || skip "../shared/anchors/protocols not present"
	printf '%s' "$body" | python3 "$FIXTURES/7001/oip_check.py" "$SHARED/anchors/protocols/open_inference_rest.yaml" "$1"
}

rss_kb() {
	awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"
}

ROWS='[{"trip_miles":1.5,"fare":7.25,"payment_type":"Cash","company":"Flash Cab"},{"trip_miles":12,"fare":40,"payment_type":"Credit Card"}]'
P1=0.39353682000387868
P2=0.35481935159305011

@test "serve: nothing to serve is a usage error" {
	run_kf -2 serve
	assert_output "kf: error: nothing to serve: give MODEL_DIR, --repo REPO or --model NAME=DIR"
	run_kf -2 serve --port 70000 taxi
	assert_output 'kf: error: --port wants a number from 0 to 65535, not "70000"'
	run_kf -2 serve --model taxi "$TEST_DIR/taxi"
	assert_output 'kf: error: --model wants NAME=DIR, not "taxi"'
	run_kf -2 serve nowhere
	assert_output 'kf: error: model directory "nowhere" not found'
}

@test "serve: a model that cannot be loaded stops the start" {
	mkdir -p bad/broken/1
	echo '{"kind": "logistic"}' >bad/broken/1/kf-model.json
	run_kf -2 serve --repo bad --port "$(free_port)"
	assert_line --index 0 --partial 'kf: warning: model "broken" version 1: '
	assert_line --index 1 'kf: error: model "broken" has no version that loads'
	run "$KF_BIN" serve --port "$(free_port)" --address 300.1.2.3 "$TEST_DIR/taxi"
	[ "$status" -eq 2 ]
	assert_output --partial 'invalid listen address "300.1.2.3"'
}

@test "serve: a port in use is an environment error" {
	start_server "$TEST_DIR/taxi"
	run "$KF_BIN" serve --port "$PORT" "$TEST_DIR/taxi"
	[ "$status" -eq 3 ]
	assert_output --partial "cannot listen on \"127.0.0.1\" port $PORT: Address already in use"
	stop_server
}

@test "serve: TF Serving model status, labels and metadata" {
	start_server "$TEST_DIR/taxi"
	grep -q "loaded model \"taxi\" version 2 from \"$TEST_DIR/taxi/2\"" "$TEST_DIR/server.err"
	call GET /v1/models/taxi
	expect 200 '{"model_version_status":[{"version":"2","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}'
	call GET /v1/models/taxi/versions/2
	expect 200 '{"model_version_status":[{"version":"2","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}'
	call GET /v1/models/taxi/versions/1
	expect 404 '{"error":"Could not find version 1 of model taxi"}'
	call GET /v1/models/taxi/versions/x
	expect 400 '{"error":"Failed to convert version: x to numeric."}'
	call GET /v1/models/nope
	expect 404 '{"error":"Could not find any versions of model nope"}'
	call GET /v1/models/taxi/labels/stable
	expect 404 '{"error":"Unrecognized servable version label: stable"}'
	call GET /v1/models/taxi/metadata
	[ "$code" = 200 ]
	run python3 -c 'import json,sys; d=json.load(sys.stdin); s=d["metadata"]["signature_def"]["signature_def"]["serving_default"]; print(d["model_spec"]["version"], " ".join(k+":"+v["dtype"] for k,v in s["inputs"].items()), " ".join(s["outputs"]), s["method_name"])' <<<"$body"
	assert_output "2 trip_miles:DT_DOUBLE fare:DT_DOUBLE payment_type:DT_STRING company:DT_STRING tips:DT_DOUBLE probability tensorflow/serving/predict"
	call GET /v1/models
	expect 200 '{"models":["taxi"]}'
	stop_server
}

@test "serve: TF Serving predict, rows and columns, classify and regress" {
	start_server "$TEST_DIR/taxi"
	call POST /v1/models/taxi:predict "{\"instances\":$ROWS}"
	expect 200 "{\"predictions\":[$P1,$P2]}"
	echo "$headers" | grep -qx 'X-Model-Version: 2'
	echo "$headers" | grep -qx 'Content-Type: application/json'
	call POST /v1/models/taxi/versions/2:predict '{"inputs":{"trip_miles":[1.5,12],"fare":[7.25,40],"payment_type":["Cash","Credit Card"],"company":["Flash Cab",null]}}'
	expect 200 "{\"outputs\":[$P1,$P2]}"
	call POST /v1/models/taxi:classify '{"context":{"trip_miles":1.5,"fare":7.25},"examples":[{"payment_type":"Cash","company":"Flash Cab"}]}'
	run python3 -c "print(repr(1 - $P1))"
	expect 200 "{\"results\":[[[\"0\",0.60646317999612132],[\"1\",$P1]]]}"
	call POST /v1/models/taxi:regress '{"examples":[{"fare":7.25}]}'
	expect 400 '{"error":"model \"taxi\" is a classifier: use :classify or :predict"}'
	call POST /v1/models/taxi:predict '{"instances":[]}'
	expect 200 '{"predictions":[]}'
	stop_server
}

@test "serve: request errors answer 4xx with TF Serving's body and the server stays up" {
	start_server "$TEST_DIR/taxi"
	call POST /v1/models/taxi:predict '{"instances":[{"fare":1}'
	expect 400 '{"error":"JSON Parse error: invalid JSON at offset 23"}'
	call POST /v1/models/taxi:predict '[1,2]'
	expect 400 '{"error":"the request body must be a JSON object"}'
	call POST /v1/models/taxi:predict '{"instances":[{"faer":1}]}'
	expect 400 '{"error":"instance 0: unknown input \"faer\" (did you mean \"fare\"?)"}'
	call POST /v1/models/taxi:predict '{"instances":[{"fare":[1,2]}]}'
	expect 400 '{"error":"instance 0: input \"fare\" must be a number, string, boolean or null"}'
	call POST /v1/models/taxi:predict '{"instances":[1.0]}'
	expect 400 '{"error":"instance 0: expected an object of named inputs"}'
	call POST /v1/models/taxi:predict '{"inputs":{"fare":[1,2],"trip_miles":[3]}}'
	expect 400 '{"error":"input \"trip_miles\" has 1 values, the others 2"}'
	call POST /v1/models/taxi:predict '{"instances":[],"inputs":{}}'
	expect 400 '{"error":"use either \"instances\" (rows) or \"inputs\" (columns), not both"}'
	call POST /v1/models/taxi:predict '{}'
	expect 400 '{"error":"missing \"instances\" or \"inputs\""}'
	call POST /v1/models/half:predict '{"instances":[]}'
	expect 404 '{"error":"Servable not found for request: Latest(half)"}'
	call POST /v1/models/taxi/versions/7:predict '{"instances":[]}'
	expect 404 '{"error":"Servable not found for request: Specific(taxi, 7)"}'
	call POST /v1/models/taxi:explain '{}'
	expect 404 '{"error":"unknown verb \"explain\" (want predict, classify or regress)"}'
	call GET /v1/models/taxi:predict
	expect 405 '{"error":"method GET not allowed here"}'
	call DELETE /v1/models/taxi
	expect 405 '{"error":"method DELETE not allowed"}'
	call GET /nowhere
	expect 404 '{"error":"no such endpoint: /nowhere"}'
	call POST /v1/models/taxi:predict "{\"instances\":$ROWS}"
	expect 200 "{\"predictions\":[$P1,$P2]}"
	stop_server
}

@test "serve: Open Inference Protocol endpoints, checked against the spec" {
	start_server "$TEST_DIR/taxi"
	call GET /v2/health/live
	expect 200 '{"live":true}'
	call GET /v2/health/ready
	expect 200 '{"ready":true}'
	call GET /v2
	expect 200 '{"name":"kf","version":"0.1.0","extensions":[]}'
	oip_check metadata_server_response
	call GET /v2/models/taxi
	expect 200 '{"name":"taxi","versions":["2"],"platform":"kf_logistic","inputs":[{"name":"trip_miles","datatype":"FP64","shape":[-1]},{"name":"fare","datatype":"FP64","shape":[-1]},{"name":"payment_type","datatype":"BYTES","shape":[-1]},{"name":"company","datatype":"BYTES","shape":[-1]},{"name":"tips","datatype":"FP64","shape":[-1]}],"outputs":[{"name":"probability","datatype":"FP64","shape":[-1]}]}'
	oip_check metadata_model_response
	call GET /v2/models/taxi/versions/2
	oip_check metadata_model_response
	call GET /v2/models/taxi/ready
	expect 200 '{"name":"taxi","ready":true}'
	call GET /v2/models/taxi/versions/2/ready
	expect 200 '{"name":"taxi","ready":true}'
	call POST /v2/models/taxi/infer '{"id":"r1","inputs":[{"name":"trip_miles","shape":[2],"datatype":"FP32","data":[1.5,12]},{"name":"fare","shape":[2,1],"datatype":"FP64","data":[[7.25],[40]]},{"name":"payment_type","shape":[2],"datatype":"BYTES","data":["Cash","Credit Card"]},{"name":"company","shape":[1],"datatype":"BYTES","data":["Flash Cab"]}]}'
	expect 400 '{"error":"input \"company\" has 1 rows, the others 2"}'
	oip_check inference_error_response
	call POST /v2/models/taxi/versions/2/infer '{"id":"r1","inputs":[{"name":"trip_miles","shape":[2],"datatype":"FP32","data":[1.5,12]},{"name":"fare","shape":[2,1],"datatype":"FP64","data":[[7.25],[40]]},{"name":"payment_type","shape":[2],"datatype":"BYTES","data":["Cash","Credit Card"]},{"name":"company","shape":[2],"datatype":"BYTES","data":["Flash Cab",""]}],"outputs":[{"name":"probability"}]}'
	expect 200 "{\"model_name\":\"taxi\",\"model_version\":\"2\",\"id\":\"r1\",\"outputs\":[{\"name\":\"probability\",\"datatype\":\"FP64\",\"shape\":[2],\"data\":[$P1,$P2]}]}"
	oip_check inference_response
	call POST /v2/models/taxi/infer '{"inputs":[{"name":"fare","shape":[1],"datatype":"BYTES","data":["7.25"]}]}'
	expect 400 '{"error":"input \"fare\" is numeric: got datatype BYTES"}'
	oip_check inference_error_response
	call POST /v2/models/taxi/infer '{"inputs":[{"name":"fare","shape":[2],"datatype":"FP64","data":[7.25]}]}'
	expect 400 '{"error":"input \"fare\": shape says 2 values, data has 1"}'
	call POST /v2/models/taxi/infer '{"inputs":[{"name":"fare","shape":[1],"datatype":"INT64","data":["x"]}]}'
	expect 400 '{"error":"input \"fare\": value 0 does not match datatype INT64"}'
	call POST /v2/models/taxi/infer '{"inputs":[{"name":"fare","shape":[1000000000],"datatype":"FP64","data":[1]}]}'
	expect 400 '{"error":"input \"fare\": shape says 1000000000 values, data has 1"}'
	call POST /v2/models/taxi/infer '{"inputs":[{"name":"fare","shape":[1e30],"datatype":"FP64","data":[1]}]}'
	expect 400 '{"error":"input \"fare\": shape must be [N] or [N, 1]"}'
	call POST /v2/models/taxi/infer '{"inputs":[{"name":"fare","shape":[1,3],"datatype":"FP64","data":[1,2,3]}]}'
	expect 400 '{"error":"input \"fare\": shape must be [N] or [N, 1]"}'
	call POST /v2/models/taxi/infer '{"inputs":[{"name":"fare","shape":[1],"datatype":"FP64","data":[1]}],"outputs":[{"name":"score"}]}'
	expect 400 '{"error":"unknown output \"score\" (the model has \"probability\")"}'
	call POST /v2/models/taxi/infer '{"inputs":[{"name":"fare","datatype":"FP64"}]}'
	expect 400 '{"error":"each input needs \"name\", \"shape\", \"datatype\" and \"data\""}'
	call POST /v2/models/nope/infer '{"inputs":[]}'
	expect 404 '{"error":"Model with name nope does not exist."}'
	oip_check inference_error_response
	call GET /v2/models/taxi/versions/9
	expect 404 '{"error":"Model with name taxi and version 9 does not exist."}'
	call GET /v2/models/taxi/versions/9/ready
	expect 404 '{"error":"Model with name taxi and version 9 does not exist."}'
	stop_server
}

@test "serve: the repository serves labels, a canary share and says which version answered" {
	cat >repo/taxi/kf-serving.yaml <<-EOF
	labels: {stable: 1, canary: 2}
	canary_percent: 25
	EOF
	start_server --repo "$TEST_DIR/repo"
	call GET /v1/models/taxi
	expect 200 '{"model_version_status":[{"version":"1","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}},{"version":"2","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}'
	call GET /v1/models/taxi/labels/canary
	expect 200 '{"model_version_status":[{"version":"2","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}'
	call POST /v1/models/taxi/labels/stable:predict "{\"instances\":$ROWS}"
	echo "$headers" | grep -qx 'X-Model-Version: 1'
	call POST /v1/models/taxi/labels/canary:predict "{\"instances\":$ROWS}"
	expect 200 "{\"predictions\":[$P1,$P2]}"
	echo "$headers" | grep -qx 'X-Model-Version: 2'
	local i v1=0 v2=0
	for i in $(seq 40); do
		call POST /v1/models/taxi:predict "{\"instances\":$ROWS}"
		case "$headers" in
		*"X-Model-Version: 1"*) v1=$((v1 + 1)) ;;
		*"X-Model-Version: 2"*) v2=$((v2 + 1)) ;;
		esac
	done
	echo "stable $v1 canary $v2"
	[ "$v1" -eq 30 ] && [ "$v2" -eq 10 ]
	stop_server
}

@test "serve: --canary sends a share of unpinned requests to a version" {
	start_server --repo "$TEST_DIR/repo" --canary taxi:1=50
	local i v1=0
	for i in $(seq 10); do
		call POST /v2/models/taxi/infer '{"inputs":[{"name":"fare","shape":[1],"datatype":"FP64","data":[7.25]}]}'
		[ "$code" = 200 ]
		case "$body" in *'"model_version":"1"'*) v1=$((v1 + 1)) ;; esac
	done
	[ "$v1" -eq 5 ]
	stop_server
	run_kf -2 serve --repo "$TEST_DIR/repo" --canary taxi=5
	assert_output 'kf: error: --canary wants NAME:VERSION=PERCENT, not "taxi=5"'
	run_kf -2 serve --repo "$TEST_DIR/repo" --canary taxo:1=5 --port "$(free_port)"
	assert_output --partial 'kf: error: canary for unknown model "taxo"'
}

@test "serve: a version added while requests run: zero failures, then it answers" {
	start_server --repo "$TEST_DIR/repo" --poll-ms 100
	# a client hammering the model the whole time, counting failures
	(
		fails=0 n=0
		while [ ! -e "$TEST_DIR/stop" ]; do
			c=$(curl -s -o /dev/null -w '%{http_code}' --data-binary "{\"instances\":$ROWS}" "$URL/v1/models/taxi:predict")
			[ "$c" = 200 ] || fails=$((fails + 1))
			n=$((n + 1))
		done
		echo "$n $fails" >"$TEST_DIR/client"
	) &
	BG_PID=$!
	sleep 0.3
	cp -r "$TEST_DIR/repo/taxi/1" "$TEST_DIR/repo/taxi/.incoming"
	mv "$TEST_DIR/repo/taxi/.incoming" "$TEST_DIR/repo/taxi/3"
	for _ in $(seq 100); do
		call GET /v1/models/taxi/versions/3
		[ "$code" = 200 ] && break
		sleep 0.05
	done
	expect 200 '{"model_version_status":[{"version":"3","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}'
	sleep 0.3
	touch "$TEST_DIR/stop"
	wait "$BG_PID"
	BG_PID=
	read -r n fails <"$TEST_DIR/client"
	echo "requests $n failed $fails"
	[ "$n" -gt 0 ] && [ "$fails" -eq 0 ]
	call POST /v1/models/taxi:predict "{\"instances\":$ROWS}"
	echo "$headers" | grep -qx 'X-Model-Version: 3'
	call GET /v1/models/taxi
	expect 200 '{"model_version_status":[{"version":"3","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}'
	# and a removed version is unloaded: version 2 answers again
	rm -rf "$TEST_DIR/repo/taxi/3"
	for _ in $(seq 100); do
		call POST /v1/models/taxi:predict "{\"instances\":$ROWS}"
		echo "$headers" | grep -qx 'X-Model-Version: 2' && break
		sleep 0.05
	done
	expect 200 "{\"predictions\":[$P1,$P2]}"
	grep -q 'unloaded model "taxi" version 3' "$TEST_DIR/server.err"
	stop_server
}

@test "serve: a broken new version is reported and the old one keeps serving" {
	start_server --repo "$TEST_DIR/repo" --poll-ms 100
	mkdir "$TEST_DIR/repo/taxi/5"
	echo '{"kind": "logistic"' >"$TEST_DIR/repo/taxi/5/kf-model.json"
	for _ in $(seq 100); do
		grep -q 'model "taxi" version 5' "$TEST_DIR/server.err" && break
		sleep 0.05
	done
	call GET /v1/models/taxi/versions/5
	[ "$code" = 200 ]
	[[ "$body" == '{"model_version_status":[{"version":"5","state":"END","status":{"error_code":"UNKNOWN","error_message":"'* ]]
	call POST /v1/models/taxi:predict "{\"instances\":$ROWS}"
	expect 200 "{\"predictions\":[$P1,$P2]}"
	echo "$headers" | grep -qx 'X-Model-Version: 2'
	call POST /v1/models/taxi/versions/5:predict "{\"instances\":$ROWS}"
	expect 503 '{"error":"Servable not available for request: Specific(taxi, 5)"}'
	stop_server
}

@test "serve: dynamic batching answers each request with its own rows" {
	start_server "$TEST_DIR/taxi" --batch-max 16 --batch-timeout-us 20000
	local i
	for i in $(seq 24); do
		if [ $((i % 2)) = 0 ]; then
			echo "{\"instances\":$ROWS}" >"$TEST_DIR/req$i"
		else
			echo '{"instances":[{"trip_miles":12,"fare":40,"payment_type":"Credit Card"}]}' >"$TEST_DIR/req$i"
		fi
	done
	local pids=()
	for i in $(seq 24); do
		curl -s -o "$TEST_DIR/out$i" --data-binary "@$TEST_DIR/req$i" "$URL/v1/models/taxi:predict" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 24); do
		if [ $((i % 2)) = 0 ]; then
			[ "$(cat "$TEST_DIR/out$i")" = "{\"predictions\":[$P1,$P2]}" ]
		else
			[ "$(cat "$TEST_DIR/out$i")" = "{\"predictions\":[$P2]}" ]
		fi
	done
	call GET /metrics
	local execs
	execs=$(awk '/^nv_inference_exec_count/ {print $2}' <<<"$body")
	echo "24 requests in $execs batches"
	grep -qx 'nv_inference_request_success{model="taxi",version="2"} 24' <<<"$body"
	grep -qx 'nv_inference_count{model="taxi",version="2"} 36' <<<"$body"
	[ "$execs" -lt 24 ]
	stop_server
}

@test "serve: /metrics in Prometheus text format" {
	start_server "$TEST_DIR/taxi"
	call POST /v1/models/taxi:predict "{\"instances\":$ROWS}"
	call POST /v1/models/taxi:predict '{"instances":[{"faer":1}]}'
	call GET /v1/models/nope
	call GET /metrics
	[ "$code" = 200 ]
	echo "$headers" | grep -qx 'Content-Type: text/plain; version=0.0.4'
	grep -qx 'nv_inference_request_success{model="taxi",version="2"} 1' <<<"$body"
	grep -qx 'nv_inference_request_failure{model="taxi",version="2"} 1' <<<"$body"
	grep -qx 'nv_inference_count{model="taxi",version="2"} 2' <<<"$body"
	grep -qx 'nv_inference_exec_count{model="taxi",version="2"} 1' <<<"$body"
	grep -qx 'kf_inference_request_duration_seconds_count{model="taxi",version="2"} 1' <<<"$body"
	grep -qx 'kf_inference_queue_duration_seconds_bucket{model="taxi",version="2",le="+Inf"} 1' <<<"$body"
	grep -qx 'kf_inference_compute_duration_seconds_count{model="taxi",version="2"} 1' <<<"$body"
	grep -qx 'kf_inference_batch_size_bucket{model="taxi",version="2",le="2"} 1' <<<"$body"
	grep -qx 'kf_models_loaded 1' <<<"$body"
	grep -qx 'kf_http_responses_total{code="200"} 1' <<<"$body"
	grep -qx 'kf_http_responses_total{code="400"} 1' <<<"$body"
	grep -qx 'kf_http_responses_total{code="404"} 1' <<<"$body"
	grep -qx '# TYPE kf_inference_request_duration_seconds histogram' <<<"$body"
	stop_server
}

@test "serve: a bearer token is required when set" {
	echo "s3cret-token" >"$TEST_DIR/token"
	start_server "$TEST_DIR/taxi" --token-file "$TEST_DIR/token"
	call GET /v1/models/taxi
	expect 401 '{"error":"missing or invalid bearer token"}'
	echo "$headers" | grep -qx 'WWW-Authenticate: Bearer'
	call GET /v1/models/taxi "" -H "Authorization: Bearer s3cret-toke"
	expect 401 '{"error":"missing or invalid bearer token"}'
	call POST /v1/models/taxi:predict "{\"instances\":$ROWS}" -H "Authorization: Bearer wrong"
	expect 401 '{"error":"missing or invalid bearer token"}'
	call POST /v1/models/taxi:predict "{\"instances\":$ROWS}" -H "Authorization: Bearer s3cret-token"
	expect 200 "{\"predictions\":[$P1,$P2]}"
	call GET /v2/health/ready "" -H "Authorization: bearer s3cret-token"
	expect 200 '{"ready":true}'
	stop_server
	run_kf -2 serve --token a --token-file "$TEST_DIR/token" "$TEST_DIR/taxi"
	assert_output "kf: error: give --token or --token-file, not both"
}

@test "serve: bodies over --max-body get 413, declared or chunked" {
	start_server "$TEST_DIR/taxi" --max-body 200
	local big
	big=$(printf '{"instances":[%s{}]}' "$(printf '{"fare":1},%.0s' $(seq 30))")
	call POST /v1/models/taxi:predict "$big"
	expect 413 '{"error":"request body too large"}'
	call POST /v1/models/taxi:predict "$big" -H "Transfer-Encoding: chunked"
	expect 413 '{"error":"request body too large"}'
	call POST /v1/models/taxi:predict "{\"instances\":$ROWS}"
	expect 200 "{\"predictions\":[$P1,$P2]}"
	stop_server
}

@test "serve: a slow client is cut off and does not hold up others" {
	start_server "$TEST_DIR/taxi" --timeout 1 --threads 1
	# half a request, then silence
	exec 7<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'POST /v1/models/taxi:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"inst' >&7
	call POST /v1/models/taxi:predict "{\"instances\":$ROWS}"
	expect 200 "{\"predictions\":[$P1,$P2]}"
	# the server closes the idle connection: reading it ends
	run timeout 10 cat <&7
	[ "$status" -eq 0 ]
	exec 7<&-
	call GET /v2/health/live
	expect 200 '{"live":true}'
	stop_server
}

@test "serve: bad requests do not make the server grow" {
	start_server "$TEST_DIR/taxi" --max-body 4096
	local i before after
	printf '{"instances":[{"faer":1}]}' >"$TEST_DIR/bad1"
	printf '{"instances":[{"fare":1}' >"$TEST_DIR/bad2"
	printf '{"inputs":[{"name":"fare","shape":[9],"datatype":"FP64","data":[1]}]}' >"$TEST_DIR/bad3"
	head -c 5000 /dev/zero | tr '\0' 'x' >"$TEST_DIR/bad4"
	for i in $(seq 50); do
		curl -s -o /dev/null --data-binary "@$TEST_DIR/bad$((i % 4 + 1))" "$URL/v1/models/taxi:predict"
	done
	before=$(rss_kb)
	for i in $(seq 400); do
		echo "url = \"$URL/v1/models/taxi:predict\""
		echo "data-binary = \"@$TEST_DIR/bad$((i % 4 + 1))\""
		echo "output = /dev/null"
	done >"$TEST_DIR/curl.cfg"
	curl -s -K "$TEST_DIR/curl.cfg"
	after=$(rss_kb)
	echo "rss before $before kB, after $after kB"
	# AddressSanitizer keeps freed memory in quarantine: its RSS says
	# nothing, and LeakSanitizer checks the exit instead
	if ! ldd "$KF_BIN" 2>/dev/null | grep -q libasan; then
		[ "$after" -le $((before + 1024)) ]
	fi
	call POST /v1/models/taxi:predict "{\"instances\":$ROWS}"
	expect 200 "{\"predictions\":[$P1,$P2]}"
	stop_server
}

@test "serve: SIGTERM finishes the request in flight and exits 0" {
	start_server "$TEST_DIR/taxi" --batch-max 64 --batch-timeout-us 1500000
	curl -s -o "$TEST_DIR/inflight" --data-binary "{\"instances\":$ROWS}" "$URL/v1/models/taxi:predict" &
	BG_PID=$!
	# until the server holds the connection (the batch waits 1.5 s)
	for _ in $(seq 100); do
		[ -n "$(ss -Htn state established "( sport = :$PORT )" 2>/dev/null)" ] && break
		sleep 0.02
	done
	stop_server
	wait "$BG_PID"
	BG_PID=
	[ "$(cat "$TEST_DIR/inflight")" = "{\"predictions\":[$P1,$P2]}" ]
	grep -q "terminated: finishing requests in flight" "$TEST_DIR/server.err"
}

@test "serve: -v logs each request to stderr" {
	PORT=$(free_port)
	"$KF_BIN" -v serve --port "$PORT" "$TEST_DIR/taxi" 2>"$TEST_DIR/server.err" &
	SERVER_PID=$!
	URL=http://127.0.0.1:$PORT
	for _ in $(seq 200); do grep -q "listening on" "$TEST_DIR/server.err" && break; sleep 0.05; done
	call GET /v1/models/nope
	stop_server
	grep -Eq '^127\.0\.0\.1:[0-9]+ "GET /v1/models/nope" 404 [0-9]+ [0-9.]+ms$' "$TEST_DIR/server.err"
}

@test "serve: --emit writes a valid KServe InferenceService" {
	run_kf -0 serve --emit --storage-uri s3://models/taxi/2 "$TEST_DIR/taxi"
	cat >want.yaml <<-'EOF'
	apiVersion: serving.kserve.io/v1beta1
	kind: InferenceService
	metadata:
	  name: taxi
	spec:
	  predictor:
	    containers:
	    - name: kserve-container
	      image: kf:0.1.0
	      args:
	      - serve
	      - /mnt/models
	      - --name
	      - taxi
	      - --address
	      - '0.0.0.0'
	      - --port
	      - '8080'
	      env:
	      - name: STORAGE_URI
	        value: s3://models/taxi/2
	      ports:
	      - containerPort: 8080
	        protocol: TCP
	EOF
	echo "$output" >got.yaml
	diff -u want.yaml got.yaml
	need_validator
	run validate_k8s got.yaml
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run_kf -2 serve --emit "$TEST_DIR/taxi"
	assert_output 'kf: error: --emit needs --storage-uri (where the cluster finds the model: s3://, gs://, pvc://)'
	run_kf -2 serve --emit --storage-uri s3://x --name Taxi_1 "$TEST_DIR/taxi"
	assert_output --partial 'model name "Taxi_1" is not a valid resource name'
}
