#!/bin/sh
# Benchmark: kf lineage on a large store.
#
# Synthesizes a store with 100,000 executions and 300,000 artifacts (each
# execution writes three artifacts and reads the first output of the one
# before it, so the graph is deep), then times
#   kf lineage trace --hops 10 from the leaf      (target: < 10 ms)
#   kf lineage ls artifacts --filter ...           (target: < 100 ms)
# against the peer, the sqlite3 shell answering the same questions with a
# recursive CTE and a plain SELECT on the same database in the same run.
#
#   sh t/bench/lineage.sh [path/to/kf]      (needs sqlite3)
set -eu
kf=${1:-$(dirname "$0")/../../build/kf}
[ -x "$kf" ] || { echo "lineage.sh: no kf binary at $kf (build first, or pass its path)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "lineage.sh: needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
store=$work/store
N=${N:-100000}

"$kf" --store "$store" lineage ls artifacts >/dev/null   # creates the schema
start=$(date +%s)
sqlite3 "$store/kf.db" <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
INSERT INTO Type (name, type_kind) VALUES ('kf.Step', 0), ('Model', 1), ('Dataset', 1);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO Execution (id, type_id, last_known_state, name, create_time_since_epoch)
  SELECT i, (SELECT id FROM Type WHERE name = 'kf.Step'), 3, 'step' || i, 1700000000000 + i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3 * $N)
INSERT INTO Artifact (id, type_id, uri, state, name, digest, create_time_since_epoch)
  SELECT i, (SELECT id FROM Type WHERE name = CASE WHEN i % 3 = 1 THEN 'Dataset' ELSE 'Model' END),
         '/data/a' || i, 2, 'out' || (i % 3), printf('%064x', i), 1700000000000 + i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3 * $N)
INSERT INTO Event (artifact_id, execution_id, type, milliseconds_since_epoch)
  SELECT i, (i + 2) / 3, 4, 0 FROM n;
WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO Event (artifact_id, execution_id, type, milliseconds_since_epoch)
  SELECT 3 * (i - 1) - 2, i, 3, 0 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3 * $N)
INSERT INTO ArtifactProperty (artifact_id, name, is_custom_property, data_type, double_value)
  SELECT i, 'auc', 1, 2, ((i * 7919) % 100000) / 100000.0 FROM n;
COMMIT;
SQL
echo "synthesized $N executions, $((3 * N)) artifacts, $((4 * N - 1)) events in $(( $(date +%s) - start ))s"
leaf=$((3 * N - 2))

# median wall time in ms of a command run 21 times
median_ms() {
	i=0
	while [ $i -lt 21 ]; do
		s=$(date +%s%N)
		"$@" >/dev/null
		e=$(date +%s%N)
		echo $(( (e - s) / 1000 ))
		i=$((i + 1))
	done | sort -n | sed -n 11p | awk '{ printf "%.2f", $1 / 1000 }'
}

trace_sql="WITH RECURSIVE walk(kind, id, hops) AS (
  SELECT 'a', $leaf, 0
  UNION
  SELECT CASE w.kind WHEN 'a' THEN 'x' ELSE 'a' END,
         CASE w.kind WHEN 'a' THEN e.execution_id ELSE e.artifact_id END, w.hops + 1
  FROM walk w JOIN Event e ON (w.kind = 'a' AND e.artifact_id = w.id AND e.type = 4)
                          OR (w.kind = 'x' AND e.execution_id = w.id AND e.type = 3)
  WHERE w.hops < 10)
SELECT kind, id, hops FROM walk;"
filter_sql="SELECT a.id, t.name, a.uri FROM Artifact a JOIN Type t ON t.id = a.type_id
  WHERE t.name = 'Model' AND a.id IN (SELECT artifact_id FROM ArtifactProperty
  WHERE name = 'auc' AND double_value > 0.999) ORDER BY a.id DESC;"

nodes=$("$kf" --store "$store" lineage trace "artifact/$leaf" --hops 10 -o name | wc -l)
peer_nodes=$(sqlite3 "$store/kf.db" "$trace_sql" | wc -l)
rows=$("$kf" --store "$store" lineage ls artifacts --filter "type = 'Model' AND properties.auc > 0.999" -o name | wc -l)
peer_rows=$(sqlite3 "$store/kf.db" "$filter_sql" | wc -l)
[ "$nodes" = "$peer_nodes" ] || echo "warning: kf traced $nodes nodes, sqlite3 $peer_nodes" >&2
[ "$rows" = "$peer_rows" ] || echo "warning: kf listed $rows rows, sqlite3 $peer_rows" >&2

kt=$(median_ms "$kf" --store "$store" lineage trace "artifact/$leaf" --hops 10 -o json)
pt=$(median_ms sqlite3 "$store/kf.db" "$trace_sql")
kl=$(median_ms "$kf" --store "$store" lineage ls artifacts --filter "type = 'Model' AND properties.auc > 0.999" -o json)
pl=$(median_ms sqlite3 "$store/kf.db" "$filter_sql")

printf '%-34s %10s %12s %8s %s\n' "question" "kf (ms)" "sqlite3 (ms)" "ratio" "target"
printf '%-34s %10s %12s %8s %s\n' "trace --hops 10 ($nodes nodes)" "$kt" "$pt" \
	"$(awk "BEGIN { printf \"%.2f\", $kt / $pt }")" "kf < 10 ms"
printf '%-34s %10s %12s %8s %s\n' "ls --filter ($rows rows)" "$kl" "$pl" \
	"$(awk "BEGIN { printf \"%.2f\", $kl / $pl }")" "kf < 100 ms"
