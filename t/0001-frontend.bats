#!/usr/bin/env bats
# The front-end: help, version, unknown commands, exit codes, closed stdout.

load test_helper

@test "kf with no command prints usage to stderr and exits 2" {
	run_kf -2
	assert_output --partial "usage: kf"
}

@test "kf help lists the commands" {
	run_kf -0 help
	assert_output --partial "commands:"
	assert_output --partial "version"
}

@test "kf --help is kf help" {
	run_kf -0 --help
	help=$output
	run_kf -0 help
	assert_equal "$output" "$help"
}

@test "kf --version prints the version" {
	run_kf -0 --version
	assert_output --regexp '^kf [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "kf version lists features, -o json is a record" {
	run_kf -0 version
	assert_line --index 1 --partial "features: yaml,json,archive,curl,sqlite"
	run_kf -0 version -o json
	echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["kind"]=="Version" and d["name"]=="kf" and "sqlite" in d["features"]'
	run_kf -0 -o yaml version
	assert_line "kind: Version"
}

@test "an unknown -o format is bad usage" {
	run_kf -2 version -o xml
	assert_output --partial 'unknown output format "xml"'
}

@test "an unknown command suggests the closest one and exits 2" {
	run_kf -2 verison
	assert_output --partial 'unknown command "verison" (did you mean "version"?)'
}

@test "an unknown option suggests the closest one and exits 2" {
	run_kf -2 version --outptu json
	assert_output --partial 'unknown option "--outptu" for "kf version" (did you mean "--output"?)'
}

@test "an unknown global option exits 2" {
	run_kf -2 --frobnicate version
	assert_output --partial 'unknown option "--frobnicate"'
}

@test "a missing option value exits 2" {
	run_kf -2 version -o
	assert_output --partial 'needs a value'
}

@test "too many arguments exits 2" {
	run_kf -2 version extra
	assert_output --partial 'unexpected argument "extra"'
}

@test "kf help COMMAND equals kf COMMAND -h" {
	run_kf -0 help version
	a=$output
	run_kf -0 version -h
	assert_equal "$output" "$a"
	assert_line --index 0 "usage: kf version [-o table|json|yaml]"
}

@test "kf help of an unknown command exits 2" {
	run_kf -2 help nosuch
}

@test "-C changes directory first" {
	mkdir sub
	run_kf -2 -C nosuchdir version
	assert_output --partial 'cannot change to directory "nosuchdir"'
	run_kf -0 -C sub version
}

@test "--color takes auto, always or never" {
	run_kf -2 --color=sometimes version
	run_kf -0 --color=never version
}

@test "writing to a closed stdout is an error, not a crash" {
	# a reader that exits at once: kf must not die of SIGPIPE (141)
	run bash -c '"$0" --store "$1" help | head -c1 >/dev/null; echo "${PIPESTATUS[0]}"' "$KF_BIN" "$KF_STORE"
	[ "$output" = 0 ] || [ "$output" = 3 ]
	run bash -c '"$0" --store "$1" help >/dev/full; echo "status=$?"' "$KF_BIN" "$KF_STORE"
	assert_output --partial "status=3"
	assert_output --partial "cannot write to standard output"
}

@test "__complete lists commands, options and option values" {
	run_kf -0 __complete ""
	assert_line "version"
	run_kf -0 __complete version --
	assert_line "--output"
	assert_line "--quiet"
	run_kf -0 __complete version -o ""
	assert_line "json"
	run_kf -0 __complete --color ""
	assert_line "always"
}

@test "--out-file writes the results to a file atomically, and only when the command ran" {
	mkdir out
	run_kf -0 version -o json --out-file out/v.json
	assert_output ""
	python3 -c 'import json; assert json.load(open("out/v.json"))["kind"] == "Version"'
	echo old > kept.txt
	run_kf -2 version -o xml --out-file kept.txt
	assert_equal "$(cat kept.txt)" "old"
	run ls
	refute_output --partial ".tmp."
	run_kf -3 version --out-file no/such/dir/v.txt
	assert_output --partial 'cannot create "no/such/dir/v.txt"'
}

@test "-r NAME names a remote of the config file; an unknown one exits 2" {
	run_kf -2 -r nosuch version
	assert_output --partial 'no remote "nosuch"'
	mkdir -p "$HOME/.config/kf"
	printf 'remotes:\n  lab:\n    host: http://127.0.0.1:8888\n' > "$HOME/.config/kf/config.yaml"
	run_kf -0 -r lab version
	run_kf -2 -r labb version
	assert_output --partial 'did you mean "lab"'
}
