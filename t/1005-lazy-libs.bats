#!/usr/bin/env bats
# libcurl, libarchive, libxgboost and libmicrohttpd are loaded on first use (lib/util/kf_dl.h): kf links
# neither, and a missing one is a clear environment error, not a crash.

load test_helper

@test "kf links none of libcurl, libarchive, libxgboost, libmicrohttpd" {
	command -v ldd >/dev/null || skip "needs ldd"
	run ldd "$KF_BIN"
	assert_success
	refute_output --partial libcurl
	refute_output --partial libarchive
	refute_output --partial libxgboost
	refute_output --partial libmicrohttpd
	# and still packs with libarchive when asked
	cp -r "$KF_SRCDIR/examples/basic" b
	run_kf -0 compile b/sequential.yaml -o p.tar.gz
	run tar tzf p.tar.gz
	assert_output pipeline.yaml
}

# Hide a library from the dynamic loader in a private mount namespace.
hide_lib() {
	local so=$1 path
	path=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
	[ -n "$path" ] || skip "$so is not installed"
	unshare -m true 2>/dev/null || skip "needs unshare -m (root, mount namespaces)"
	HIDE="mount --bind /dev/null $path"
}

@test "a missing libarchive is exit 3 naming the library, only when a package is written" {
	hide_lib libarchive.so.13
	cp -r "$KF_SRCDIR/examples/basic" b
	run unshare -m sh -c "$HIDE && exec \"\$0\" compile b/sequential.yaml -o p.tar.gz" "$KF_BIN"
	assert_equal "$status" 3
	assert_output "kf: error: libarchive.so.13 not found: install libarchive13"
	run unshare -m sh -c "$HIDE && exec \"\$0\" compile b/sequential.yaml -o p.yaml" "$KF_BIN"
	assert_equal "$status" 0
}

@test "a missing libcurl is exit 3 naming the library, only when a component is fetched" {
	hide_lib libcurl.so.4
	cat > p.yaml <<'Y'
apiVersion: kf/v1
kind: Pipeline
metadata: {name: fetch}
spec:
  components:
    c: {ref: "https://example.invalid/component.yaml"}
  steps:
    s: {component: c}
Y
	run unshare -m sh -c "$HIDE && exec \"\$0\" compile --check p.yaml" "$KF_BIN"
	assert_equal "$status" 3
	assert_output --partial "libcurl.so.4 not found: install libcurl4"
	run unshare -m sh -c "$HIDE && exec \"\$0\" version" "$KF_BIN"
	assert_equal "$status" 0
}
