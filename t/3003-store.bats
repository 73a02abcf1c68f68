#!/usr/bin/env bats
# kf run: what a run leaves in the store (kf-store(5)).

load test_helper

F=$FIXTURES/3001

need_sqlite3() {
	command -v sqlite3 >/dev/null || skip "sqlite3 (the CLI) is not installed"
}

# Every stored file's sha256 equals its name; directories are re-hashed by kf.
verify_artifacts() {
	local f name sum
	while IFS= read -r f; do
		name=${f#"$KF_STORE"/artifacts/sha256/}
		name=${name%%/*}${name#*/}
		name=${name%%/*}
		[ -d "$f" ] && continue
		sum=$(sha256sum "$f" | cut -c1-64)
		[ "$sum" = "$name" ] || { echo "artifact $f has digest $sum"; return 1; }
	done < <(find "$KF_STORE/artifacts/sha256" -mindepth 2 -maxdepth 2)
}

@test "outputs are stored read-only under their sha256, and recorded with it" {
	need_sqlite3
	run_kf -0 run "$F/basic.yaml" -q
	verify_artifacts
	run sqlite3 "$KF_STORE/kf.db" "SELECT uri, digest FROM Artifact"
	[ -n "$output" ]
	while IFS='|' read -r uri digest; do
		[ "$(sha256sum "$uri" | cut -c1-64)" = "$digest" ]
		[ "$(stat -c %a "$uri")" = 444 ]
	done <<<"$output"
	[ -z "$(ls -A "$KF_STORE/artifacts/tmp")" ]
}

@test "the run is recorded as ML Metadata: executions, events, contexts" {
	need_sqlite3
	run_kf -0 run "$F/basic.yaml" -q
	id=$output
	db=$KF_STORE/kf.db
	[ "$(sqlite3 "$db" "SELECT count(*) FROM Context c JOIN Type t ON t.id = c.type_id WHERE t.name = 'kf.Run' AND c.name = '$id'")" = 1 ]
	[ "$(sqlite3 "$db" "SELECT p.name FROM Context c JOIN ParentContext pc ON pc.context_id = c.id JOIN Context p ON p.id = pc.parent_context_id WHERE c.name = '$id'")" = basic ]
	# second reads first's output: an OUTPUT event of first and an INPUT event... as a value it is a property
	[ "$(sqlite3 "$db" "SELECT count(*) FROM Execution x JOIN Association a ON a.execution_id = x.id JOIN Context c ON c.id = a.context_id WHERE c.name = '$id' AND x.last_known_state = 3")" = 8 ]
	[ "$(sqlite3 "$db" "SELECT count(*) FROM Event e JOIN EventPath p ON p.event_id = e.id WHERE e.type = 4 AND p.step_key = 'sum'")" = 2 ]
	[ "$(sqlite3 "$db" "SELECT string_value FROM ExecutionProperty WHERE name = 'input:a' AND execution_id = (SELECT id FROM Execution WHERE name = 'second')")" = 3 ]
	# second read first's output: an INPUT event on the very artifact first wrote
	[ "$(sqlite3 "$db" "SELECT count(*) FROM Event o JOIN Execution p ON p.id = o.execution_id JOIN Event i ON i.artifact_id = o.artifact_id JOIN Execution c ON c.id = i.execution_id WHERE o.type = 4 AND i.type = 3 AND p.name = 'first' AND c.name = 'second'")" = 1 ]
}

@test "an artifact passed by path is an INPUT event on the same artifact" {
	need_sqlite3
	run_kf -0 run "$F/argv.yaml" -q -p v=hello
	db=$KF_STORE/kf.db
	[ "$(sqlite3 "$db" "SELECT count(DISTINCT e.type) FROM Event e JOIN Artifact a ON a.id = e.artifact_id WHERE a.name = 'copy'")" = 2 ]
	[ "$(sqlite3 "$db" "SELECT group_concat(x.name) FROM (SELECT x.name FROM Event e JOIN Artifact a ON a.id = e.artifact_id JOIN Execution x ON x.id = e.execution_id WHERE a.name = 'copy' AND e.type = 3 ORDER BY x.name) x")" = recopy,reprint ]
}

@test "eight kf run at once on one store all complete and are all recorded" {
	need_sqlite3
	local pids=() i
	for i in 1 2 3 4 5 6 7 8; do
		"$KF_BIN" --store "$KF_STORE" run "$F/basic.yaml" -q --no-cache -p a="$i" >"out.$i" 2>"err.$i" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { cat "err.$((i + 1))"; return 1; }
	done
	run_kf -0 run ls -o json
	[ "$(jq '[.items[] | select(.state == "Succeeded")] | length' <<<"$output")" = 8 ]
	[ "$(sqlite3 "$KF_STORE/kf.db" 'PRAGMA integrity_check')" = ok ]
	for i in 1 2 3 4 5 6 7 8; do
		run_kf -0 run logs "$(cat "out.$i")" big
		[ "$output" = "big $((i + 42))" ]
	done
	verify_artifacts
}

@test "the store is in WAL mode with a schema version" {
	need_sqlite3
	run_kf -0 run "$F/basic.yaml" -q
	[ "$(sqlite3 "$KF_STORE/kf.db" 'PRAGMA journal_mode')" = wal ]
	[ "$(sqlite3 "$KF_STORE/kf.db" 'SELECT schema_version FROM MLMDEnv')" = 1 ]
}

@test "logs are kept per step under runs/RUN/STEP" {
	run_kf -0 run "$F/basic.yaml" -q
	[ "$(cat "$KF_STORE/runs/$output/big/stdout")" = "big 43" ]
	[ -f "$KF_STORE/runs/$output/big/stderr" ]
	[ -d "$KF_STORE/runs/$output/big/work" ]
}
