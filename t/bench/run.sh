#!/bin/sh
# t/bench/run.sh: kf run's per-step overhead against ninja and make.
#
# The same DAG of N trivial steps (each creates its output file) in three
# shapes -- a chain, a fan-out/fan-in, layered random -- as a kf pipeline, a
# build.ninja and a Makefile; each tool runs it with 2 jobs from scratch, then
# again with nothing to do (kf: everything cached; ninja/make: up to date).
# Prints wall time per step and kf's ratio to ninja.
#
#   t/bench/run.sh [N] [KF]        N defaults to 1000, KF to ./kf or build/kf
set -eu

N=${1:-1000}
KF=${2:-}
if [ -z "$KF" ]; then
	for k in ./kf ./build/kf; do [ -x "$k" ] && KF=$k && break; done
fi
[ -n "$KF" ] || { echo "run.sh: no kf binary (give its path as the second argument)" >&2; exit 2; }
KF=$(cd "$(dirname "$KF")" && pwd)/$(basename "$KF")
for t in ninja make python3; do
	command -v $t >/dev/null || { echo "run.sh: needs $t (apt-get install ninja-build make python3)" >&2; exit 3; }
done

W=$(mktemp -d "${TMPDIR:-/tmp}/kf-bench-run.XXXXXX")
trap 'chmod -R u+w "$W"; rm -rf "$W"' EXIT

# deps per step, one line per step: "i d1 d2 ..." (d < i)
gen_deps() {
	python3 - "$1" "$N" <<'PY'
import random, sys
shape, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
if shape == "chain":
    for i in range(n):
        print(i, *([i - 1] if i else []))
elif shape == "fan":
    print(0)
    for i in range(1, n - 1):
        print(i, 0)
    print(n - 1, *range(1, n - 1))
else:  # layered random: layers of ~sqrt(n) steps, 1-3 parents in the layer above
    width = max(1, int(n ** 0.5))
    for i in range(n):
        layer = i // width
        if layer == 0:
            print(i)
            continue
        lo, hi = (layer - 1) * width, layer * width - 1
        print(i, *sorted(set(rnd.randint(lo, hi) for _ in range(rnd.randint(1, 3)))))
PY
}

gen_kf() {
	{
		echo "apiVersion: kf/v1"
		echo "kind: Pipeline"
		echo "metadata: {name: bench}"
		echo "spec:"
		echo "  components:"
		echo "    touch:"
		echo "      name: touch"
		echo "      inputs: [{name: n}]"
		echo "      outputs: [{name: out}]"
		echo "      implementation:"
		echo "        container: {image: busybox, command: [touch, {outputPath: out}], args: [{inputValue: n}]}"
		echo "  steps:"
		while read -r i deps; do
			printf '    s%s: {component: touch, args: {n: "%s"}' "$i" "$i"
			[ -n "$deps" ] && printf ', after: [%s]' "$(echo "$deps" | sed 's/[0-9][0-9]*/s&/g; s/ /, /g')"
			echo "}"
		done
	} >"$1"
}

gen_ninja() {
	{
		echo "rule touch"
		echo "  command = touch \$out"
		while read -r i deps; do
			printf 'build s%s: touch' "$i"
			[ -n "$deps" ] && printf ' | %s' "$(echo "$deps" | sed 's/[0-9][0-9]*/s&/g')"
			echo
		done
	} >"$1"
}

gen_make() {
	{
		printf 'all:'
		i=0
		while [ $i -lt "$N" ]; do printf ' s%s' $i; i=$((i + 1)); done
		echo
		while read -r i deps; do
			printf 's%s:' "$i"
			[ -n "$deps" ] && printf ' %s' "$(echo "$deps" | sed 's/[0-9][0-9]*/s&/g')"
			printf '\n\ttouch $@\n'
		done
	} >"$1"
}

now() { date +%s.%N; }

# secs CMD...: wall seconds of a command (its output discarded)
secs() {
	t0=$(now)
	"$@" >/dev/null 2>&1 || { echo "run.sh: failed: $*" >&2; exit 1; }
	t1=$(now)
	python3 -c "print(f'{$t1 - $t0:.4f}')"
}

per_step_us() { python3 -c "print(f'{$1 * 1e6 / $N:8.1f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:5.2f}')"; }

printf '%-8s %-6s %12s %12s %12s %9s   %12s %12s %9s\n' shape N \
	"kf us/step" "ninja" "make" "kf/ninja" "kf cached" "ninja no-op" "kf/ninja"
for shape in chain fan layered; do
	d=$W/$shape
	mkdir -p "$d/kf" "$d/ninja" "$d/make"
	gen_deps $shape >"$d/deps"
	gen_kf "$d/kf/pipeline.yaml" <"$d/deps"
	gen_ninja "$d/ninja/build.ninja" <"$d/deps"
	gen_make "$d/make/Makefile" <"$d/deps"

	kf_t=$(secs "$KF" --store "$d/kf/store" run "$d/kf/pipeline.yaml" -q -j 2)
	ninja_t=$(secs ninja -C "$d/ninja" -j 2)
	make_t=$(secs make -C "$d/make" -j 2)
	kf_c=$(secs "$KF" --store "$d/kf/store" run "$d/kf/pipeline.yaml" -q -j 2)
	ninja_c=$(secs ninja -C "$d/ninja" -j 2)

	printf '%-8s %-6s %12s %12s %12s %9s   %12s %12s %9s\n' $shape "$N" \
		"$(per_step_us "$kf_t")" "$(per_step_us "$ninja_t")" "$(per_step_us "$make_t")" \
		"$(ratio "$kf_t" "$ninja_t")" "${kf_c}s" "${ninja_c}s" "$(ratio "$kf_c" "$ninja_c")"
done
echo "targets: kf/ninja per step <= 1.5; kf cached re-run <= 2x ninja's no-op"
