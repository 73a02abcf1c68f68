# Shared set-up for the bats suites: every test runs in its own temp dir with
# its own HOME and --store, and calls the kf under test through run_kf.
#
#   load test_helper
#   run_kf -2 compile bad.yaml      # asserts the exit status (here 2)

if [ -d /usr/lib/bats/bats-support ]; then
	load /usr/lib/bats/bats-support/load
	load /usr/lib/bats/bats-assert/load
else
	load "${BATS_LIB_PATH:-/usr/local/lib}/bats-support/load"
	load "${BATS_LIB_PATH:-/usr/local/lib}/bats-assert/load"
fi

KF_SRCDIR=${KF_SRCDIR:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
KF_BIN=${KF_BIN:-$KF_SRCDIR/kf}
FIXTURES=$KF_SRCDIR/t/fixtures
SHARED=${KF_SHARED:-$KF_SRCDIR/../shared}

setup() {
	TEST_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/kf-test.XXXXXX")
	export HOME=$TEST_DIR/home
	mkdir -p "$HOME"
	export KF_HOME=$TEST_DIR/kfhome
	export KF_STORE=$TEST_DIR/store
	unset KF_HOST KF_TOKEN KF_REMOTE KF_CONFIG XDG_CONFIG_HOME KUBECONFIG NO_COLOR
	cd "$TEST_DIR" || return 1
	if declare -F setup_file_local >/dev/null; then setup_file_local; fi
}

teardown() {
	if declare -F teardown_local >/dev/null; then teardown_local; fi
	# a server start_server left running (a test that failed half-way)
	if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -9 "$SERVER_PID"; fi
	cd /
	chmod -R u+w "$TEST_DIR" 2>/dev/null
	rm -rf "$TEST_DIR"
}

kf() {
	"$KF_BIN" "$@"
}

# run_kf [-N] ARGS...: run kf with the test's own store; with -N assert exit status N.
run_kf() {
	local want=
	case "${1:-}" in
	-[0-9]*) want=${1#-}; shift ;;
	esac
	run "$KF_BIN" --store "$KF_STORE" "$@"
	if [ -n "$want" ] && [ "$status" -ne "$want" ]; then
		echo "kf $*: exit status $status, expected $want" >&2
		echo "output: $output" >&2
		return 1
	fi
}

# Skip unless ../shared holds the validator (and node can run it).
need_validator() {
	[ -x "$SHARED/tools/validate-k8s-yaml" ] || skip "../shared/tools/validate-k8s-yaml not present"
	command -v node >/dev/null || skip "node is not installed (the validator needs it)"
}

validate_k8s() {
	"$SHARED/tools/validate-k8s-yaml" "$@"
}

need_shared_data() {
	[ -f "$SHARED/data/$1" ] || skip "../shared/data/$1 not present"
}

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_server ARGS...: kf serve on a free loopback port with the test's
# store; waits for "listening on" and sets PORT, URL and SERVER_PID.
start_server() {
	PORT=$(free_port)
	"$KF_BIN" --store "$KF_STORE" serve --port "$PORT" "$@" 2>"$TEST_DIR/server.err" &
	SERVER_PID=$!
	for _ in $(seq 200); do
		grep -q "listening on" "$TEST_DIR/server.err" && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	grep -q "listening on http://127.0.0.1:$PORT" "$TEST_DIR/server.err" || { cat "$TEST_DIR/server.err"; return 1; }
	URL=http://127.0.0.1:$PORT
}

# stop_server: SIGTERM, then the exit status must be 0 (a graceful stop).
stop_server() {
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID"
	local rc=$?
	SERVER_PID=
	[ "$rc" -eq 0 ] || { echo "kf serve exited $rc"; cat "$TEST_DIR/server.err"; return 1; }
}
