#!/bin/sh
# Benchmark: kf's start-up, against small C tools measured in the same run.
#
# Times N invocations each of `kf version`, `git --version` and
# `sqlite3 --version` (best of REPEAT rounds, mean per invocation, ms) and
# prints kf's ratio to each. Every kf command pays this before it does
# anything: steps in pipelines, `kf lineage trace` (target < 10 ms). Also
# prints the dynamic loader's own count (LD_DEBUG=statistics) and how many
# shared libraries kf loads.
#
#   sh t/bench/startup.sh [path/to/kf]
set -eu
kf=${1:-}
[ -n "$kf" ] || for k in ./kf build/kf "$(dirname "$0")/../../build/kf"; do [ -x "$k" ] && kf=$k && break; done
[ -x "${kf:-}" ] || { echo "startup.sh: no kf binary (give its path)" >&2; exit 2; }
N=${N:-100}
REPEAT=${REPEAT:-5}

# mean ms per run of N runs, best of REPEAT rounds
measure() {
	best=
	r=0
	while [ "$r" -lt "$REPEAT" ]; do
		i=0
		t0=$(date +%s%N)
		while [ "$i" -lt "$N" ]; do
			"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
			i=$((i + 1))
		done
		t1=$(date +%s%N)
		t=$(( (t1 - t0) / N ))
		if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
		r=$((r + 1))
	done
	awk -v ns="$best" 'BEGIN { printf "%.2f", ns / 1e6 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

printf '%-22s %10s %8s\n' what ms/run ratio
k=$(measure "$kf" version)
printf '%-22s %10s %8s\n' "kf version" "$k" ""
for peer in "git --version" "sqlite3 --version"; do
	set -- $peer
	command -v "$1" >/dev/null || { printf '%-22s %10s\n' "$peer" "(not installed)"; continue; }
	p=$(measure "$@")
	printf '%-22s %10s %8s\n' "$peer" "$p" "$(ratio "$k" "$p")"
done
libs=$(LD_TRACE_LOADED_OBJECTS=1 "$kf" 2>/dev/null | grep -c '=>' || true)
cycles=$(LD_DEBUG=statistics "$kf" version 2>&1 >/dev/null |
	 sed -n 's/.*total startup time in dynamic loader: *\([0-9]*\) cycles.*/\1/p')
echo "kf: $libs shared libraries, ${cycles:-?} cycles in the dynamic loader"
