#!/usr/bin/env bats
# kf lineage: ls, show, trace, graph, diff and gc over a store filled by two
# runs of a small data -> train -> evaluate pipeline that differ in one
# parameter (lr).

load test_helper

PIPE=$FIXTURES/8001/train.yaml

two_runs() {
	run_kf -0 -q run "$PIPE"
	RUN1=$output
	run_kf -0 -q run "$PIPE" -p lr=0.2
	RUN2=$output
}

# The id of the newest artifact of a type (and label).
newest() {
	kf --store "$KF_STORE" lineage ls artifacts --filter "type = '$1' AND name = '$2'" --limit 1 -o name
}

@test "ls of an empty store prints only the header" {
	run_kf -0 lineage ls artifacts
	assert_output "NAME   TYPE   LABEL   STATE   CREATED   URI"
}

@test "ls takes artifacts, executions or contexts" {
	run_kf -2 lineage ls models
	assert_output --partial '"kf lineage ls" lists artifacts, executions or contexts, not "models"'
	run_kf -2 lineage ls
}

@test "ls lists what the runs recorded, by type, run, filter and limit" {
	two_runs
	run_kf -0 lineage ls artifacts --type Model -o name
	assert_equal "$(echo "$output" | wc -l)" 2
	run_kf -0 lineage ls executions --run "$RUN1" -o json
	echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["kind"]=="ExecutionList"; assert sorted(i["label"] for i in d["items"])==["data","evaluate","train"], d'
	run_kf -0 lineage ls executions --filter "state = CACHED"
	assert_line --regexp "^execution/[0-9]+ +kf.Step +data +CACHED "
	run_kf -0 lineage ls executions --filter "properties.input:lr > 0.15 AND type = 'kf.Step'" -o name
	assert_equal "$(echo "$output" | wc -l)" 1
	run_kf -0 lineage ls contexts --type kf.Run -o name
	assert_equal "$(echo "$output" | wc -l)" 2
	run_kf -0 lineage ls artifacts --limit 1 -o name
	assert_output "artifact/7"
	run_kf -0 lineage ls artifacts --since 1h --type Dataset -o name
	assert_output "artifact/1"
}

@test "a bad filter names the column and suggests a field" {
	run_kf -2 lineage ls artifacts --filter "typo = 'Model'"
	assert_output --partial "column 1: unknown field \"typo\" (did you mean \"type\"?)"
	run_kf -2 lineage ls artifacts --filter "name = 'x"
	assert_output --partial "unterminated string"
	run_kf -2 lineage ls artifacts --filter "state = SLEEPY"
	assert_output --partial 'unknown state "SLEEPY"'
	run_kf -2 lineage ls artifacts --filter "name = x extra"
	assert_output --partial 'unexpected "extra"'
}

@test "show an artifact by id, digest, digest prefix and path" {
	two_runs
	model=$(newest Model model)
	run_kf -0 lineage show "$model"
	assert_line --partial "type        Model"
	assert_line --regexp "^  execution/[0-9]+ +kf.Step +train "
	assert_line --regexp "^  execution/[0-9]+ +kf.Step +evaluate "
	digest=$(kf --store "$KF_STORE" lineage show "$model" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
	run_kf -0 lineage show "$digest" -o name
	assert_output "$model"
	run_kf -0 lineage show "${digest:0:10}" -o name
	assert_output "$model"
	uri=$(kf --store "$KF_STORE" lineage show "$model" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["uri"])')
	cp "$uri" copy-of-model
	run_kf -0 lineage show copy-of-model -o name
	assert_output "$model"
	run_kf -0 lineage show "a/${model#artifact/}" -o name
	assert_output "$model"
}

@test "show an execution lists its inputs and outputs; unknown ids exit 2" {
	two_runs
	run_kf -0 lineage show execution/2
	assert_line --partial "inputs:"
	assert_line --regexp "^  artifact/1 +Dataset +data "
	run_kf -2 lineage show execution/999
	assert_output --partial "no execution with id 999"
	run_kf -2 lineage show 0123456789abcdef
	assert_output --partial 'no artifact with content digest "0123456789abcdef"'
	run_kf -2 lineage show not-a-thing
	assert_output --partial 'is not an id, a digest or a file'
}

@test "trace upstream of the newest report reaches the data, with hops" {
	two_runs
	report=$(newest Artifact report)
	run_kf -0 lineage trace "$report" -o json
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
got = [(n["type"], n["label"], n["hops"]) for n in d["items"]]
want = [("Artifact", "report", 0), ("kf.Step", "evaluate", 1), ("Model", "model", 2),
        ("kf.Step", "train", 3), ("Dataset", "data", 4), ("kf.Step", "data", 5), ("kf.Step", "data", 5)]
assert got == want, got
edges = {(e["from"].split("/")[0], e["type"], e["path"]) for e in d["edges"]}
assert ("artifact", "INPUT", "model") in edges and ("execution", "OUTPUT", "report") in edges, edges
assert len(d["edges"]) == 6, d["edges"]'
	run_kf -0 lineage trace "$report" --hops 2 -o name
	assert_equal "$(echo "$output" | wc -l)" 3
	run_kf -0 lineage trace "$report" --until Model -o name
	assert_equal "$(echo "$output" | wc -l)" 3
}

@test "trace downstream of the data lists every consumer" {
	two_runs
	run_kf -0 lineage trace artifact/1 --downstream -o json
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
labels = sorted((n["type"], n["label"]) for n in d["items"] if n["hops"] > 0)
assert labels == sorted([("kf.Step", "train")] * 2 + [("Model", "model")] * 2 + [("Metrics", "metrics")] * 2
                        + [("kf.Step", "evaluate")] * 2 + [("Artifact", "report")] * 2), labels'
	run_kf -0 lineage trace artifact/1 --both -o name
	assert_line "execution/1"
	assert_line "artifact/7"
	run_kf -2 lineage trace artifact/1 --upstream --downstream
	run_kf -2 lineage trace context/1
	assert_output --partial "not a context"
	run_kf -2 lineage trace artifact/1 --hops 0
}

@test "graph draws SVG, self-contained HTML and DOT" {
	two_runs
	run_kf -0 lineage graph artifact/1 --both
	echo "$output" | python3 -c 'import sys, xml.dom.minidom as m; d=m.parseString(sys.stdin.read()); assert d.documentElement.tagName=="svg"; assert len(d.getElementsByTagName("rect")) >= 11'
	assert_output --partial "run $RUN1"
	run_kf -0 lineage graph artifact/1 --both -o html
	assert_output --partial "<!DOCTYPE html>"
	assert_output --partial "<svg"
	refute_output --partial "<script"
	refute_output --partial "http://"'"'"'"
	run_kf -0 lineage graph artifact/1 --both -o dot
	assert_line --index 0 "digraph lineage {"
	assert_output --partial "subgraph \"cluster_0\""
	if command -v dot >/dev/null; then echo "$output" | dot -Tsvg >/dev/null; fi
	run_kf -2 lineage graph artifact/1 -o table
}

@test "diff names exactly the changed parameter and what it changed downstream" {
	two_runs
	run_kf -0 lineage diff "$RUN1" "$RUN2" -o json
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
got = sorted((i["what"], i["name"]) for i in d["items"])
want = sorted([("param", "lr"), ("cached", "data"), ("artifact", "train.model"), ("artifact", "train.metrics"),
               ("metric", "train.auc"), ("input", "evaluate.model")])
assert got == want, got
lr = [i for i in d["items"] if i["name"] == "lr"][0]
assert (lr["run1"], lr["run2"]) == ("0.1", "0.2"), lr'
	run_kf -1 lineage diff "$RUN1" "$RUN2" --exit-code
	run_kf -0 lineage diff "$RUN2" "$RUN2" --exit-code
	assert_output --partial "do not differ"
	run_kf -2 lineage diff "$RUN1" no-such-run
}

@test "gc keeps everything a kept run references and removes the rest" {
	two_runs
	data_uri=$(kf --store "$KF_STORE" lineage show artifact/1 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["uri"])')
	run_kf -0 lineage gc --dry-run
	refute_output --partial "its runs are not kept"
	# keep only the newest run: the first run's model and metrics go, but the
	# data (which the second run reused from cache) and the report (same
	# content in both runs) stay
	run_kf -0 lineage gc --keep-last 1 --dry-run -o json
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert sorted(a for i in d["items"] for a in i["artifacts"]) == [2, 3], d'
	[ -e "$data_uri" ]
	run_kf -0 lineage gc --keep-last 1
	assert_output --partial "removed 2 artifacts"
	[ -e "$data_uri" ]
	run_kf -0 lineage ls artifacts --filter "state = DELETED" -o name
	assert_equal "$(echo "$output" | sort | tr '\n' ' ')" "artifact/2 artifact/3 "
	[ "$(sqlite3 "$KF_STORE/kf.db" 'PRAGMA integrity_check')" = ok ]
	# the first run's parameters run again: its steps execute again, fine
	run_kf -0 -q run "$PIPE"
}

@test "gc removes files no artifact refers to, and never a referenced one" {
	two_runs
	orphan=$KF_STORE/artifacts/sha256/ab/$(printf 'c%.0s' $(seq 62))
	mkdir -p "$(dirname "$orphan")"
	echo junk > "$orphan"
	run_kf -0 lineage gc --keep-last 0 --dry-run -o json
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
reasons = sorted(i["reason"] for i in d["items"])
assert "no artifact refers to it" in reasons, reasons'
	[ -e "$orphan" ]
	# --keep-last 0 drops every run: all step outputs go, nothing else does
	run_kf -0 lineage gc --keep-last 0
	[ ! -e "$orphan" ]
	run_kf -0 lineage ls artifacts --filter "state = LIVE" -o name
	assert_output ""
	[ "$(sqlite3 "$KF_STORE/kf.db" 'PRAGMA integrity_check')" = ok ]
	run_kf -2 lineage gc --keep-last -3
}

@test "trace joins artifacts with the same content across commands" {
	two_runs
	uri=$(kf --store "$KF_STORE" lineage show artifact/1 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["uri"])')
	cp "$uri" copy.csv
	# another command reads the same bytes from another path: a new
	# artifact with the same digest, joined to the run's data by the walk
	run_kf -0 analyze stats copy.csv
	run_kf -0 lineage trace artifact/1 --downstream -o json
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
types = [n["type"] for n in d["items"]]
assert "kf.AnalyzeStats" in types, types
same = [e for e in d["edges"] if e["type"] == "SAME_CONTENT"]
assert len(same) == 1 and same[0]["from"] == "artifact/1", same'
}
