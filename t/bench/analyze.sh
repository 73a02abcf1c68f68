#!/bin/sh
# Benchmark kf analyze stats against pandas, measured in the same run, on the
# Chicago taxi CSV replicated 1x, 10x and 100x (15,002 to 1,500,200 rows).
# Prints the wall and CPU times (best of REPEAT), the peak RSS and the ratios
# (speedup: pandas wall / kf wall; cpu_x: pandas CPU / kf CPU; rss_x: RSS).
# Target: kf at least 5x faster than pandas at 100x, peak RSS < 64 MB flat.
#
#   t/bench/analyze.sh [KF]        (default: ./kf, else build/kf)
#
# The peer is Debian's python3-pandas:
#   python3 -c 'import pandas, sys; pandas.read_csv(sys.argv[1]).describe(include="all")' FILE
# (installed with apt-get when missing and we are root; else skipped with a
# message). kf records each run in a throwaway store, as it always does.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
KF=${1:-}
[ -n "$KF" ] || for k in ./kf build/kf "$here/../../build/kf"; do [ -x "$k" ] && KF=$k && break; done
[ -x "${KF:-}" ] || { echo "analyze.sh: no kf binary (give its path)" >&2; exit 2; }
KF=$(cd "$(dirname "$KF")" && pwd)/$(basename "$KF")
TAXI=${TAXI:-$here/../../../shared/data/chicago-taxi/data.csv}
[ -f "$TAXI" ] || { echo "analyze.sh: $TAXI not found (set TAXI=)" >&2; exit 2; }
REPEAT=${REPEAT:-3}
[ -x /usr/bin/time ] || { echo "analyze.sh: needs GNU time (/usr/bin/time)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/kf-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# a python3 with pandas
PY=
for py in python3 /usr/bin/python3; do
	if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import pandas' 2>/dev/null; then PY=$py; break; fi
done
if [ -z "$PY" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "installing python3-pandas (the peer)..." >&2
	apt-get install -y -q python3-pandas >/dev/null 2>&1 || true
	/usr/bin/python3 -c 'import pandas' 2>/dev/null && PY=/usr/bin/python3
fi
[ -n "$PY" ] || echo "analyze.sh: python3-pandas is not installed: the pandas column is skipped" >&2

# best wall time, best CPU time (user + system) and the peak RSS (KB) of a
# command, over REPEAT runs. On a busy machine the wall time measures the
# scheduler as much as the program: the CPU time is printed beside it.
measure() {
	best= cpu= rss=
	i=0
	while [ $i -lt "$REPEAT" ]; do
		/usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" ||
			{ cat "$work/err" >&2; exit 1; }
		read -r t u s m <"$work/time"
		best=$(awk -v a="$best" -v b="$t" 'BEGIN { print (a == "" || b < a) ? b : a }')
		cpu=$(awk -v a="$cpu" -v b="$u" -v c="$s" 'BEGIN { print (a == "" || b + c < a) ? b + c : a }')
		rss=$(awk -v a="$rss" -v b="$m" 'BEGIN { print (a == "" || b > a) ? b : a }')
		i=$((i + 1))
	done
	echo "$best $cpu $rss"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null), $(nproc 2>/dev/null) CPUs; best of $REPEAT"
printf '%-6s %9s %8s %8s %8s %10s %10s %10s %8s %8s %8s\n' size rows kf_s kf_cpu kf_MB pandas_s pandas_cpu pandas_MB speedup cpu_x rss_x
for n in 1 10 100; do
	f=$work/taxi-$n.csv
	head -1 "$TAXI" >"$f"
	i=0
	while [ $i -lt $n ]; do tail -n +2 "$TAXI" >>"$f"; i=$((i + 1)); done
	rows=$(($(wc -l <"$f") - 1))
	set -- $(measure "$KF" --store "$work/store" analyze stats "$f")
	kt=$1 kc=$2 km=$3
	if [ -n "$PY" ]; then
		set -- $(measure "$PY" -c 'import pandas, sys; pandas.read_csv(sys.argv[1]).describe(include="all")' "$f")
		pt=$1 pc=$2 pm=$3
		awk -v n="${n}x" -v r="$rows" -v kt="$kt" -v kc="$kc" -v km="$km" -v pt="$pt" -v pc="$pc" -v pm="$pm" 'BEGIN {
			printf "%-6s %9d %8.2f %8.2f %8.1f %10.2f %10.2f %10.1f %7.1fx %7.1fx %7.1fx\n", n, r, kt, kc, km / 1024,
				pt, pc, pm / 1024, (kt > 0 ? pt / kt : 0), (kc > 0 ? pc / kc : 0), (km > 0 ? pm / km : 0) }'
	else
		awk -v n="${n}x" -v r="$rows" -v kt="$kt" -v kc="$kc" -v km="$km" 'BEGIN {
			printf "%-6s %9d %8.2f %8.2f %8.1f %10s %10s %10s %8s %8s %8s\n", n, r, kt, kc, km / 1024,
				"-", "-", "-", "-", "-", "-" }'
	fi
	rm -f "$f"
done
