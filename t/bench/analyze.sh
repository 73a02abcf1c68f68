#!/bin/sh
# Benchmark kf analyze stats against pandas, measured in the same run, on the
# Chicago taxi CSV replicated 1x, 10x and 100x (15,002 to 1,500,200 rows).
# Prints each time (best of REPEAT), peak RSS and the ratios.
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

# best wall time and the peak RSS (KB) of a command, over REPEAT runs
measure() {
	best= rss=
	i=0
	while [ $i -lt "$REPEAT" ]; do
		/usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" ||
			{ cat "$work/err" >&2; exit 1; }
		read -r t m <"$work/time"
		best=$(awk -v a="$best" -v b="$t" 'BEGIN { print (a == "" || b < a) ? b : a }')
		rss=$(awk -v a="$rss" -v b="$m" 'BEGIN { print (a == "" || b > a) ? b : a }')
		i=$((i + 1))
	done
	echo "$best $rss"
}

printf '%-6s %10s %12s %10s %12s %12s %10s %10s\n' size rows kf_s kf_rss_MB pandas_s pandas_rss_MB speedup rss_ratio
for n in 1 10 100; do
	f=$work/taxi-$n.csv
	head -1 "$TAXI" >"$f"
	i=0
	while [ $i -lt $n ]; do tail -n +2 "$TAXI" >>"$f"; i=$((i + 1)); done
	rows=$(($(wc -l <"$f") - 1))
	set -- $(measure "$KF" --store "$work/store" analyze stats "$f")
	kt=$1 km=$2
	if [ -n "$PY" ]; then
		set -- $(measure "$PY" -c 'import pandas, sys; pandas.read_csv(sys.argv[1]).describe(include="all")' "$f")
		pt=$1 pm=$2
		awk -v n="${n}x" -v r="$rows" -v kt="$kt" -v km="$km" -v pt="$pt" -v pm="$pm" 'BEGIN {
			printf "%-6s %10d %12.3f %10.1f %12.3f %12.1f %9.1fx %9.1fx\n", n, r, kt, km / 1024, pt, pm / 1024,
				(kt > 0 ? pt / kt : 0), (km > 0 ? pm / km : 0) }'
	else
		awk -v n="${n}x" -v r="$rows" -v kt="$kt" -v km="$km" 'BEGIN {
			printf "%-6s %10d %12.3f %10.1f %12s %12s %10s %10s\n", n, r, kt, km / 1024, "-", "-", "-", "-" }'
	fi
	rm -f "$f"
done
