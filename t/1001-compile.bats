#!/usr/bin/env bats
# kf compile: golden workflows, package formats, determinism, validation.

load test_helper

setup_file_local() {
	# the validator installs its node modules once, not per test
	export XDG_CACHE_HOME=${KF_VALIDATE_CACHE:-/tmp/kf-validate-cache}
}

# Compile a fixture to stdout and compare with its golden file.
golden() {
	local name=$1
	cp "$FIXTURES/1001/$name.yaml" .
	run_kf -0 compile "$name.yaml" -o -
	printf '%s\n' "$output" > got.yaml
	diff -u "$FIXTURES/1001/$name.golden.yaml" got.yaml
}

@test "golden: every construct of formats.md (params, retries, timeout, resources, gpu, nodeSelector, env, cache, when, loop, exit handler)" {
	golden formats-example
}

@test "golden: placeholders (if/isPresent, concat, inputPath of constants and params, env, inline component, run.id)" {
	golden placeholders
}

@test "golden: loops over a parameter and dicts, conditions on items and around loops" {
	golden loops
}

@test "golden: steps named like generated templates get NAME-2 templates" {
	golden name-clashes
}

@test "golden: the examples/basic pipelines (sequential, parallel, condition, exit handler, loops, retry, caching)" {
	local f name fail=0
	for f in "$KF_SRCDIR"/examples/basic/*.yaml; do
		name=$(basename "$f" .yaml)
		# compiled where they are: component refs are relative to the spec
		run_kf -0 compile "$f" -o -
		printf '%s\n' "$output" > "$name.yaml"
		diff -u "$FIXTURES/1001/basic/$name.golden.yaml" "$name.yaml" || fail=1
	done
	[ "$fail" -eq 0 ]
}

@test "the same pipelines as KFP v1 anchors compile to what the KFP compiler wrote" {
	local name anchor
	[ -d "$SHARED/anchors/kfp-v1/compiled" ] || skip "../shared/anchors not present"
	python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
	for name in bagging loop-over-lightweight-output; do
		anchor=$SHARED/anchors/kfp-v1/compiled/$([ "$name" = bagging ] && echo bagging_pipelines || echo loop_over_lightweight_output).yaml
		golden "kfp-$name"
		run python3 "$FIXTURES/1001/kfp-compare.py" "$anchor" got.yaml
		assert_success
		assert_output same
	done
}

@test "golden files are valid Argo Workflows" {
	need_validator
	run validate_k8s "$FIXTURES"/1001/*.golden.yaml "$FIXTURES"/1001/basic/*.golden.yaml
	assert_success
}

@test "the default output is SPEC.tar.gz beside the spec, holding pipeline.yaml only" {
	mkdir sub
	cp "$FIXTURES/1001/loops.yaml" sub/
	run_kf -0 compile sub/loops.yaml
	[ -f sub/loops.tar.gz ]
	run python3 - sub/loops.tar.gz "$FIXTURES/1001/loops.golden.yaml" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], "r:gz") as t:
    ms = t.getmembers()
    assert [m.name for m in ms] == ["pipeline.yaml"], [m.name for m in ms]
    m = ms[0]
    assert m.isreg() and m.mode == 0o644 and m.mtime == 0 and m.uid == 0 and m.gid == 0, (m.mode, m.mtime)
    assert t.extractfile(m).read() == open(sys.argv[2], "rb").read()
print("ok")
PY
	assert_success
	assert_output ok
}

@test "a .zip package holds pipeline.yaml, deflated" {
	cp "$FIXTURES/1001/loops.yaml" .
	run_kf -0 compile loops.yaml -o out.zip
	run python3 - out.zip "$FIXTURES/1001/loops.golden.yaml" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    infos = z.infolist()
    assert [i.filename for i in infos] == ["pipeline.yaml"], infos
    assert infos[0].compress_type == zipfile.ZIP_DEFLATED
    assert z.read("pipeline.yaml") == open(sys.argv[2], "rb").read()
print("ok")
PY
	assert_success
	assert_output ok
}

@test ".tgz, .yaml and .yml outputs; an unknown extension is bad usage" {
	cp "$FIXTURES/1001/loops.yaml" .
	run_kf -0 compile loops.yaml -o a.tgz
	run tar -tzf a.tgz
	assert_output pipeline.yaml
	run_kf -0 compile loops.yaml -o plain.yml
	cmp plain.yml "$FIXTURES/1001/loops.golden.yaml"
	run_kf -0 compile loops.yaml -o plain.yaml
	cmp plain.yaml "$FIXTURES/1001/loops.golden.yaml"
	run_kf -2 compile loops.yaml -o out.json
	assert_output 'kf: error: cannot tell the package format of "out.json" (use .tar.gz, .tgz, .zip, .yaml or .yml)'
	[ ! -e out.json ]
}

@test "output is byte-identical for identical input; --timestamp records the time" {
	cp "$FIXTURES/1001/formats-example.yaml" p.yaml
	run_kf -0 compile p.yaml -o a.tar.gz
	run_kf -0 compile p.yaml -o a.zip
	sleep 1
	run_kf -0 compile p.yaml -o b.tar.gz
	run_kf -0 compile p.yaml -o b.zip
	cmp a.tar.gz b.tar.gz
	cmp a.zip b.zip
	run bash -c 'tar -xzOf a.tar.gz | grep -c compilation_time'
	assert_output 0
	run_kf -0 compile p.yaml --timestamp -o t.tar.gz
	run tar -xzOf t.tar.gz
	assert_output --regexp "pipelines.kubeflow.org/pipeline_compilation_time: '?20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T"
	run python3 -c 'import sys,tarfile; print(tarfile.open(sys.argv[1]).getmembers()[0].mtime > 0)' t.tar.gz
	assert_output True
}

@test "--check validates and writes nothing" {
	cp "$FIXTURES/1001/loops.yaml" .
	run_kf -0 compile --check loops.yaml
	assert_output ''
	[ ! -e loops.tar.gz ]
}

@test "-p sets parameter defaults in the package, checked against their types" {
	cp "$FIXTURES/1001/formats-example.yaml" p.yaml
	run_kf -0 compile p.yaml -p a=41 -p data=/tmp/x -o -
	assert_output --partial "$(printf -- "- name: a\n      value: '41'")"
	assert_output --partial "$(printf -- "- name: data\n      value: /tmp/x")"
	run_kf -2 compile p.yaml -p a=forty -o -
	assert_output 'kf: error: -p "a=forty": "forty" is not a valid Integer'
	run_kf -2 compile p.yaml -p nope -o -
	assert_output 'kf: error: -p "nope": expected NAME=VALUE'
}

@test "values pass as parameters and files as artifacts, KFP v1 style" {
	cp "$KF_SRCDIR/examples/basic/sequential.yaml" .
	mkdir -p components
	cp "$KF_SRCDIR"/examples/basic/components/*.yaml components/
	run_kf -0 compile sequential.yaml -o -
	assert_output --partial "from: '{{tasks.download.outputs.artifacts.download-out}}'"
	assert_output --partial "path: /tmp/inputs/data/data"
	assert_output --partial "path: /tmp/outputs/out/data"
	assert_output --partial '"url": "components/produce.yaml"'
	# consumed only as a file: no output parameter
	refute_output --partial "valueFrom:"
}

@test "a closed stdout is not a crash" {
	cp "$FIXTURES/1001/formats-example.yaml" p.yaml
	run bash -c '"$KF_BIN" compile p.yaml -o - | head -1'
	assert_success
	assert_output "apiVersion: argoproj.io/v1alpha1"
}

@test "every examples/ pipeline compiles and validates" {
	local f n=0
	while IFS= read -r f; do
		grep -q '^kind: Pipeline' "$f" || continue
		run_kf -0 compile "$f" -o "$TEST_DIR/$n.yaml"
		n=$((n + 1))
	done < <(find "$KF_SRCDIR/examples" -name '*.yaml' | sort)
	[ "$n" -ge 8 ]
	if [ -x "$SHARED/tools/validate-k8s-yaml" ] && command -v node >/dev/null; then
		run validate_k8s "$TEST_DIR"/[0-9]*.yaml
		assert_success
	fi
}
