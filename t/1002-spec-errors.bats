#!/usr/bin/env bats
# Spec errors: each t/fixtures/1002/NAME.yaml is a mistake; NAME.err is the
# exact text kf compile --check prints for it (NAME.args: extra arguments).

load test_helper

@test "every spec mistake is reported exactly as NAME.err says, with exit status 2" {
	local dir=$FIXTURES/1002 f name args failed=0 count=0 out
	cd "$dir"
	for f in *.yaml; do
		name=${f%.yaml}
		args=()
		[ -f "$name.args" ] && read -r -a args < "$name.args"
		count=$((count + 1))
		status=0
		out=$("$KF_BIN" --store "$KF_STORE" compile --check "${args[@]}" "$f" 2>&1) || status=$?
		if [ "$status" -ne 2 ]; then
			echo "$name: exit status $status, expected 2"
			failed=$((failed + 1))
		elif [ "$out" != "$(cat "$name.err")" ]; then
			echo "$name: output differs:"
			diff <(printf '%s\n' "$out") "$name.err" | sed 's/^/  /'
			failed=$((failed + 1))
		fi
	done
	echo "$count cases, $failed failed"
	[ "$count" -ge 40 ]
	[ "$failed" -eq 0 ]
}

@test "errors in a referenced component file point into that file" {
	cd "$FIXTURES/1002"
	run_kf -2 compile --check ref-file-errors.yaml
	assert_output --partial 'components/typo.yaml:6:5: error: unknown key "imagee" in container'
	assert_output --partial 'components/typo.yaml:7:34: error: component "typo": unknown input "mgs"'
}

@test "a component URL that cannot be reached is an environment error (exit 3)" {
	local port
	port=$(free_port)
	cat > p.yaml <<EOF2
apiVersion: kf/v1
kind: Pipeline
metadata: {name: remote}
spec:
  components:
    web: {ref: "https://127.0.0.1:$port/component.yaml"}
  steps:
    a: {component: web}
EOF2
	run_kf -3 compile --check p.yaml
	assert_output --partial "p.yaml:6:16: error: component \"web\": cannot fetch \"https://127.0.0.1:$port/component.yaml\""
}

@test "a component URL is read from the store's cache when it is there" {
	local url=https://example.invalid/components/echo.yaml hash
	hash=$(printf '%s' "$url" | sha256sum | cut -d' ' -f1)
	mkdir -p "$KF_STORE/cache/components"
	cp "$FIXTURES/1002/components/echo.yaml" "$KF_STORE/cache/components/$hash"
	cat > p.yaml <<EOF2
apiVersion: kf/v1
kind: Pipeline
metadata: {name: cached}
spec:
  components:
    echo: {ref: "$url"}
  steps:
    a: {component: echo, args: {msg: hi}}
EOF2
	run_kf -0 compile p.yaml -o - 
	assert_output --partial '"url": "https://example.invalid/components/echo.yaml"'
	assert_output --partial "- hi"
	# an error in the cached copy points at the cached file
	printf 'name: Broken\nimplementation: {container: {imag: x}}\n' > "$KF_STORE/cache/components/$hash"
	run_kf -2 compile --check p.yaml
	assert_output --partial "$KF_STORE/cache/components/$hash:2:30: error: unknown key \"imag\" in container"
}

@test "the real KFP v1 components load unchanged" {
	local c n=0
	[ -d "$SHARED/anchors/kfp-v1/components" ] || skip "../shared/anchors not present"
	for c in "$SHARED"/anchors/kfp-v1/components/*.component.yaml "$SHARED"/anchors/kfp-v1/components/*/component.yaml; do
		cat > p.yaml <<EOF2
apiVersion: kf/v1
kind: Pipeline
metadata: {name: real}
spec:
  components:
    c: {ref: "$c"}
  steps:
    s: {component: c}
EOF2
		run_kf compile --check p.yaml
		# the only complaints allowed are the step's missing arguments
		if printf '%s\n' "$output" | grep 'error:' | grep -v 'missing argument for input'; then
			echo "$c does not load"
			return 1
		fi
		n=$((n + 1))
	done
	[ "$n" -eq 6 ]
}
