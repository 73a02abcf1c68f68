# fish completion for kf: asks `kf __complete` for the candidates.
function __kf_complete
	set -l words (commandline -opc)
	set -e words[1]
	set -l cur (commandline -ct)
	for c in (kf __complete $words "$cur" 2>/dev/null)
		switch $c
			case :file
				__fish_complete_path "$cur"
			case :dir
				__fish_complete_directories "$cur"
			case '*'
				echo $c
		end
	end
end
complete -c kf -f -a '(__kf_complete)'
