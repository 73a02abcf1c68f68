#!/bin/sh
# Benchmark kf compile against a plain libyaml parse+emit, measured in the
# same run on specs of 1,000 and 10,000 steps. Prints each time (best of
# REPEAT), the ratio and the peak RSS. Target: ratio <= 3 at both sizes.
#
#   t/bench/compile.sh [KF]        (default: ./kf, else build/kf)
#
# Peers, measured in the same run: "parse+emit workflow" round-trips a
# document of the size kf writes (the workflow itself: the target ratio is
# against this one); "parse+emit spec" round-trips the spec kf reads, for
# scale (the KFP v1 format is ~15 times larger than the spec: every
# template carries its component spec as an annotation).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
KF=${1:-}
[ -n "$KF" ] || for k in ./kf build/kf "$here/../../build/kf"; do [ -x "$k" ] && KF=$k && break; done
[ -x "${KF:-}" ] || { echo "compile.sh: no kf binary (give its path)" >&2; exit 2; }
REPEAT=${REPEAT:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/kf-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

cc ${CFLAGS:--O2} -o "$work/yaml_roundtrip" "$here/yaml_roundtrip.c" $(pkg-config --cflags --libs yaml-0.1)

# A pipeline of N steps: a chain where each step adds to its predecessor's
# output, every tenth one also gated by a condition and fanned out by a loop.
gen() {
	awk -v n="$1" 'BEGIN {
		print "apiVersion: kf/v1\nkind: Pipeline\nmetadata:\n  name: bench\nspec:"
		print "  params:\n    start: {type: Integer, default: 1}\n    items: {type: JsonArray, default: [1, 2, 3]}"
		print "  components:\n    add:\n      name: Add"
		print "      inputs: [{name: a, type: Integer}, {name: b, type: Integer, default: \"1\"}]"
		print "      outputs: [{name: sum, type: Integer}]"
		print "      implementation:\n        container:\n          image: alpine"
		print "          command: [sh, -c, '\''echo $(($0 + $1)) > \"$2\"'\'', {inputValue: a}, {inputValue: b}, {outputPath: sum}]"
		print "  steps:"
		print "    s0:\n      component: add\n      args: {a: \"{{params.start}}\"}"
		for (i = 1; i < n; i++) {
			# the output of a looped step cannot be used: chain past it
			prev = (i - 1) % 10 == 5 ? i - 2 : i - 1
			printf "    s%d:\n      component: add\n      args: {a: \"{{steps.s%d.outputs.sum}}\", b: %d}\n", i, prev, i
			if (i % 10 == 0) {
				printf "      when: \"{{steps.s%d.outputs.sum}} > 0\"\n", prev
				printf "      retries: {limit: 2, backoff: {duration: 1s}}\n      timeout: 10m\n"
			}
			if (i % 10 == 5)
				printf "      parallelFor: \"{{params.items}}\"\n"
		}
	}' > "$2"
}

# best wall time of REPEAT runs, in ms (date +%s%N); peak RSS (KiB, GNU time)
# of the last; best CPU time (user + sys, GNU time, 10 ms resolution), which
# a shared, loaded machine disturbs less than the wall time
measure() {
	best=
	bcpu=
	i=0
	while [ "$i" -lt "$REPEAT" ]; do
		t0=$(date +%s%N)
		if [ -x /usr/bin/time ]; then
			/usr/bin/time -f '%M %U %S' -o "$work/t" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
		else
			"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
			echo "- 0 0" > "$work/t"   # apt-get install time for the peak RSS
		fi
		t1=$(date +%s%N)
		t=$(( (t1 - t0) / 1000000 ))
		set -- $(tail -n 1 "$work/t") "$@"
		rss=$1
		cpu=$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%d", (u + s) * 1000 }')
		shift 3
		if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
		if [ -z "$bcpu" ] || [ "$cpu" -lt "$bcpu" ]; then bcpu=$cpu; fi
		i=$((i + 1))
	done
	echo "$best $rss $bcpu"
}

printf '%-7s %-22s %10s %12s %8s %8s %9s\n' steps what ms peak-RSS-KiB ratio cpu-ms cpu-ratio
for n in 1000 10000; do
	gen "$n" "$work/spec-$n.yaml"
	"$KF" compile "$work/spec-$n.yaml" -o "$work/wf-$n.yaml"
	set -- $(measure "$KF" compile "$work/spec-$n.yaml" -o "$work/out-$n.yaml"); kt=$1; krss=$2; kc=$3
	set -- $(measure "$work/yaml_roundtrip" "$work/spec-$n.yaml" "$work/rt-spec.yaml"); st=$1; srss=$2; sc=$3
	set -- $(measure "$work/yaml_roundtrip" "$work/wf-$n.yaml" "$work/rt-wf.yaml"); wt=$1; wrss=$2; wc=$3
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b < 1) b = 1; printf "%.2f", a / b }'; }
	printf '%-7s %-22s %10s %12s %8s %8s %9s\n' "$n" "kf compile" "$kt" "$krss" "" "$kc" ""
	printf '%-7s %-22s %10s %12s %8s %8s %9s\n' "$n" "parse+emit workflow" "$wt" "$wrss" "$(ratio "$kt" "$wt")" "$wc" "$(ratio "$kc" "$wc")"
	printf '%-7s %-22s %10s %12s %8s %8s %9s\n' "$n" "parse+emit spec" "$st" "$srss" "$(ratio "$kt" "$st")" "$sc" "$(ratio "$kc" "$sc")"
	printf '%-7s spec %s bytes, workflow %s bytes\n' "$n" "$(wc -c < "$work/spec-$n.yaml")" "$(wc -c < "$work/wf-$n.yaml")"
done
