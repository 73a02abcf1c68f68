# bash completion for kf. The candidates come from `kf __complete`, which
# derives them from each command's option declarations, so they never drift.
_kf() {
	local cur=${COMP_WORDS[COMP_CWORD]} out
	local IFS=$'\n'
	out=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
	case $out in
	:file) COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null ;;
	:dir) COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null ;;
	*)
		local words=${out//:file/} ; words=${words//:dir/}
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		case $out in *:file*) COMPREPLY+=($(compgen -f -- "$cur")) ;; esac
		;;
	esac
}
complete -F _kf kf
