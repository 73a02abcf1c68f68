#!/bin/sh
# Benchmark kf serve against nginx answering a fixed JSON body, measured in
# the same run with wrk on 127.0.0.1 (2 threads, 64 connections, 10 s each):
#
#   nginx        POST of a 1-instance body, answered with a fixed prediction
#   kf 1         :predict of 1 instance to a taxi logistic model
#   kf 100       :predict of 100 instances
#   ... each kf case once without and once with dynamic batching
#
# Prints requests/s, p50 and p99 latency and the kf/nginx ratio of
# requests/s. Target: kf 1 >= 0.5x nginx, p99 <= 2 ms.
#
#   t/bench/serve.sh [KF]        (default: ./kf, else build/kf)
#
# wrk and nginx come from Debian; as root the script installs them when
# missing. Both servers bind 127.0.0.1 only, and get the same number of
# threads / worker processes (THREADS, default 2).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
KF=${1:-}
[ -n "$KF" ] || for k in ./kf build/kf "$here/../../build/kf"; do [ -x "$k" ] && KF=$k && break; done
[ -x "${KF:-}" ] || { echo "serve.sh: no kf binary (give its path)" >&2; exit 2; }
KF=$(cd "$(dirname "$KF")" && pwd)/$(basename "$KF")
DATA=${DATA:-$here/../../../shared/data/chicago-taxi/data.csv}
[ -f "$DATA" ] || { echo "serve.sh: no taxi data at $DATA (set DATA)" >&2; exit 2; }
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
BATCH_MAX=${BATCH_MAX:-64}
BATCH_TIMEOUT_US=${BATCH_TIMEOUT_US:-200}

missing=
command -v wrk >/dev/null || missing=wrk
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ]; then
		apt-get install -y -q wrk nginx-light >/dev/null 2>&1 || apt-get install -y -q wrk nginx >/dev/null
	else
		echo "serve.sh: needs wrk and nginx (apt-get install wrk nginx)" >&2
		exit 3
	fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d "${TMPDIR:-/tmp}/kf-bench-serve.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
	[ ! -f "$work/nginx.pid" ] || kill -TERM "$(cat "$work/nginx.pid")" 2>/dev/null || true
	sleep 0.3
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# The taxi logistic model, trained on the first 8,000 rows.
head -n 8001 "$DATA" >"$work/train.csv"
"$KF" --store "$work/store" -q train --model logistic --data "$work/train.csv" \
	--label-expr 'tips > 0.2 * fare' --ignore trip_start_timestamp --epochs 2 \
	--out "$work/repo/taxi/1" >/dev/null

# Request bodies: 1 and 100 raw rows of the data as instances.
python3 - "$DATA" "$work" <<'EOF'
import csv, itertools, json, sys
def cell(v):
    if v == "":
        return None
    try:
        return float(v) if any(c in v for c in ".eE") else int(v)
    except ValueError:
        return v
with open(sys.argv[1]) as f:
    rows = [{k: cell(v) for k, v in r.items() if k != "tips"}
            for r in itertools.islice(csv.DictReader(f), 8000, 8100)]
assert len(rows) == 100, "the data has fewer than 8,100 rows"
for n in (1, 100):
    with open("%s/body%d.json" % (sys.argv[2], n), "w") as out:
        json.dump({"instances": rows[:n]}, out)
EOF

for n in 1 100; do
	cat >"$work/post$n.lua" <<EOF
local f = io.open("$work/body$n.json")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
EOF
done

# wrk's summary as "rps p50_ms p99_ms non2xx".
measure() {
	wrk -t2 -c64 -d"$DURATION" --latency -s "$2" "$1" >"$work/wrk.out" 2>&1 || true
	awk '
	function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
	/Requests\/sec/ { rps = $2 }
	/^ +50%/ { p50 = ms($2) }
	/^ +99%/ { p99 = ms($2) }
	/Non-2xx/ { bad = $NF }
	END { printf "%.0f %.3f %.3f %d\n", rps, p50, p99, bad + 0 }' "$work/wrk.out"
}

# nginx answering a fixed prediction to any POST.
NPORT=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<EOF
worker_processes $THREADS;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	server {
		listen 127.0.0.1:$NPORT;
		location / {
			default_type application/json;
			return 200 '{"predictions":[0.2246041855770765]}';
		}
	}
}
EOF
"$NGINX" -c "$work/nginx.conf" -p "$work/nginx" 2>/dev/null
sleep 0.3

start_kf() {
	KPORT=$(free_port)
	"$KF" --store "$work/store" serve --repo "$work/repo" --port "$KPORT" --threads "$THREADS" --poll-ms 0 "$@" \
		2>"$work/kf.err" &
	kpid=$!
	pids="$pids $kpid"
	i=0
	while ! grep -q "listening on" "$work/kf.err"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$work/kf.err" >&2; exit 1; }
		sleep 0.05
	done
}

stop_kf() {
	kill -TERM "$kpid"
	wait "$kpid" || true
}

printf '%-34s %10s %9s %9s %8s %6s\n' "case" "req/s" "p50 ms" "p99 ms" "kf/nginx" "errors"
set -- $(measure "http://127.0.0.1:$NPORT/v1/models/taxi:predict" "$work/post1.lua")
nginx_rps=$1
printf '%-34s %10s %9s %9s %8s %6s\n' "nginx fixed body (1 instance)" "$1" "$2" "$3" "-" "$4"

row() {
	label=$1 lua=$2
	shift 2
	start_kf "$@"
	set -- $(measure "http://127.0.0.1:$KPORT/v1/models/taxi:predict" "$lua")
	stop_kf
	ratio=$(awk -v a="$1" -v b="$nginx_rps" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
	printf '%-34s %10s %9s %9s %8s %6s\n' "$label" "$1" "$2" "$3" "$ratio" "$4"
}

row "kf :predict 1 instance" "$work/post1.lua"
row "kf :predict 1 instance, batching" "$work/post1.lua" --batch-max "$BATCH_MAX" --batch-timeout-us "$BATCH_TIMEOUT_US"
row "kf :predict 100 instances" "$work/post100.lua"
row "kf :predict 100, batching" "$work/post100.lua" --batch-max "$((BATCH_MAX * 100))" --batch-timeout-us "$BATCH_TIMEOUT_US"
echo "(wrk -t2 -c64 -d$DURATION on 127.0.0.1; $THREADS kf threads / nginx workers; batching: --batch-max $BATCH_MAX --batch-timeout-us $BATCH_TIMEOUT_US)"
