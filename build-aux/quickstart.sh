#!/bin/sh
# quickstart.sh: set up a fresh Debian 12 machine (as root) or a developer's,
# build kf, then run the main example or the whole test suite.
#
#   sh build-aux/quickstart.sh example   install what is missing, build, run the main example
#   sh build-aux/quickstart.sh check     install what is missing, build, run every suite:
#                                        once with -Werror, once under ASan+UBSan,
#                                        and end with "N passed, N failed"
set -eu

mode=${1:-example}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

# Debian packages kf builds and tests with (DESIGN.md section 5).
packages="build-essential autoconf automake pkg-config libyaml-dev libcjson-dev
libarchive-dev libcurl4-openssl-dev libsqlite3-dev libmicrohttpd-dev zlib1g-dev
bats bats-support bats-assert python3 python3-yaml curl jq sqlite3 openssl groff-base"

install_missing() {
	missing=
	for p in $packages; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
	done
	# the schema validator of ../shared needs node and npm (any install will do)
	if [ "$mode" = check ] && ! command -v npm >/dev/null 2>&1; then
		missing="$missing nodejs npm"
	fi
	[ -n "$missing" ] || return 0
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "quickstart: missing packages:$missing (install them, then run again)" >&2
		exit 3
	fi
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	echo "quickstart: installing$missing" >&2
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

configure_in() {   # configure_in DIR [configure args...]
	dir=$1; shift
	mkdir -p "$dir"
	( cd "$dir" && "$top/configure" -q "$@" )
}

build() {   # build DIR [configure args...]
	dir=$1
	[ -f "$dir/Makefile" ] || configure_in "$@"
	make -s -C "$dir" -j"$jobs"
}

# Run make check in DIR, then count every test of every suite from the
# automake logs (each bats test and each unit-test check is one TAP line).
check_in() {
	dir=$1
	label=$2
	status=0
	make -s -C "$dir" -j"$jobs" check >"$dir/check.out" 2>&1 || status=$?
	p=$(cat "$dir"/t/*.log "$dir"/t/unit/*.log 2>/dev/null | grep -c '^PASS:' || true)
	f=$(cat "$dir"/t/*.log "$dir"/t/unit/*.log 2>/dev/null | grep -cE '^(FAIL|XPASS|ERROR):' || true)
	s=$(cat "$dir"/t/*.log "$dir"/t/unit/*.log 2>/dev/null | grep -c '^SKIP:' || true)
	echo "$label: $p passed, $f failed, $s skipped"
	if [ "$status" != 0 ] && [ "$f" = 0 ]; then
		# make itself failed (a build error, a crashed suite): show why
		tail -n 40 "$dir/check.out"
		f=1
	fi
	if [ "$f" != 0 ]; then
		grep -hE '^(FAIL|XPASS|ERROR):' "$dir"/t/*.log "$dir"/t/unit/*.log 2>/dev/null | head -n 50
		for log in "$dir"/t/*.log "$dir"/t/unit/*.log; do
			grep -qE '^(FAIL|ERROR):' "$log" 2>/dev/null && { echo "--- $log"; tail -n 60 "$log"; }
		done
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
}

[ -x ./configure ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

case $mode in
example|--run-example-only)
	if [ "$mode" = example ]; then
		install_missing
		build build
		kf=$top/build/kf
	else
		kf=$(pwd)/kf
		[ -x "$kf" ] || kf=$top/build/kf
	fi
	if [ -x "$top/examples/run-main.sh" ]; then
		exec sh "$top/examples/run-main.sh" "$kf"
	fi
	"$kf" version
	;;
check)
	install_missing
	total_pass=0 total_fail=0 total_skip=0
	build build-werror --enable-werror
	check_in build-werror "werror build"
	build build-asan --enable-werror --enable-sanitizers CFLAGS="-O1 -g"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		check_in build-asan "asan+ubsan build"
	echo "$total_pass passed, $total_fail failed, $total_skip skipped"
	[ "$total_fail" = 0 ]
	;;
*)
	echo "usage: sh build-aux/quickstart.sh example|check" >&2
	exit 2
	;;
esac
