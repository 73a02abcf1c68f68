#!/usr/bin/env bats
# --help, the man pages and the completions agree, for every command.

load test_helper

# Every command path: "version", "run", "run ls", ...
command_paths() {
	local cmd sub
	for cmd in $(kf __complete "" | grep -v '^:'); do
		echo "$cmd"
		for sub in $(kf __complete "$cmd" "" | grep -v '^:'); do
			echo "$cmd $sub"
		done
	done
}

# The usage lines of `kf PATH -h`, without "usage: ".
usage_lines() {
	# shellcheck disable=SC2086
	kf $1 -h | sed -n '1,/^$/p' | sed -e '/^$/d' -e 's/^usage: //' -e 's/^       //'
}

# The command's own options (not the common ones) as --long names.
own_options() {
	# shellcheck disable=SC2086
	kf $1 -h | sed -n '/^options:/,/^$/p' | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

man_text() {
	sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\(em/--/g' "$1"
}

man_synopsis() {
	sed -n '/^\.SH SYNOPSIS/,/^\.SH [^S]/p' "$1" | grep -v '^\.' | sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g'
}

@test "every command has a man page whose SYNOPSIS matches its -h usage" {
	local path top man line fail=0
	while read -r path; do
		top=${path%% *}
		man=$KF_SRCDIR/man/kf-$top.1
		[ -f "$man" ] || { echo "missing man page $man"; fail=1; continue; }
		while IFS= read -r line; do
			man_synopsis "$man" | grep -qxF "$line" || { echo "kf-$top.1 SYNOPSIS lacks: $line"; fail=1; }
		done < <(usage_lines "$path")
	done < <(command_paths)
	[ "$fail" = 0 ]
}

@test "every option in -h is in the command's man page" {
	local path top opt fail=0
	while read -r path; do
		top=${path%% *}
		for opt in $(own_options "$path"); do
			man_text "$KF_SRCDIR/man/kf-$top.1" | grep -qe "$opt" || { echo "kf-$top.1 lacks $opt (kf $path)"; fail=1; }
		done
	done < <(command_paths)
	[ "$fail" = 0 ]
}

@test "the common and global options are in kf(1)" {
	local opt fail=0
	for opt in --store --output --quiet --verbose --color --version --help; do
		man_text "$KF_SRCDIR/man/kf.1" | grep -qe "$opt" || { echo "kf.1 lacks $opt"; fail=1; }
	done
	[ "$fail" = 0 ]
}

@test "every command is in kf(1) and in kf help" {
	local cmd fail=0
	for cmd in $(kf __complete "" | grep -v '^:'); do
		man_text "$KF_SRCDIR/man/kf.1" | grep -q "^\.B $cmd\$" || { echo "kf.1 COMMANDS lacks $cmd"; fail=1; }
		kf help | grep -qE "^  $cmd " || { echo "kf help lacks $cmd"; fail=1; }
	done
	[ "$fail" = 0 ]
}

@test "bash completion offers every option of every command" {
	local path opt fail=0
	# shellcheck disable=SC1091
	source "$KF_SRCDIR/completions/kf.bash"
	kfdir=$(dirname "$KF_BIN")
	PATH=$kfdir:$PATH
	while read -r path; do
		# shellcheck disable=SC2206
		COMP_WORDS=(kf $path --)
		COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
		COMPREPLY=()
		_kf
		for opt in $(own_options "$path") --store --quiet --verbose --help; do
			printf '%s\n' "${COMPREPLY[@]}" | grep -qxe "$opt" || { echo "bash completion of kf $path lacks $opt"; fail=1; }
		done
	done < <(command_paths)
	[ "$fail" = 0 ]
}

@test "bash completion completes command names" {
	source "$KF_SRCDIR/completions/kf.bash"
	PATH=$(dirname "$KF_BIN"):$PATH
	COMP_WORDS=(kf vers)
	COMP_CWORD=1
	_kf
	assert_equal "${COMPREPLY[*]}" "version"
}

@test "zsh and fish completions ask kf __complete" {
	grep -q '__complete' "$KF_SRCDIR/completions/_kf"
	grep -q '__complete' "$KF_SRCDIR/completions/kf.fish"
	if command -v fish >/dev/null; then fish -n "$KF_SRCDIR/completions/kf.fish"; fi
	if command -v zsh >/dev/null; then zsh -n "$KF_SRCDIR/completions/_kf"; fi
}

@test "man pages are well-formed roff" {
	command -v groff >/dev/null || command -v man >/dev/null || skip "neither groff nor man is installed"
	local page
	for page in "$KF_SRCDIR"/man/*.[1-8]; do
		if command -v groff >/dev/null; then
			run groff -man -Tutf8 -ww -z "$page"
			[ -z "$output" ] || { echo "$page: $output"; false; }
		fi
	done
}
