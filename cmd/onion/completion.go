package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// The completion scripts ask onion itself: the CLI library answers
// `onion WORDS... --generate-bash-completion` with the commands or flags
// that may come next (EnableBashCompletion).
const bashCompletion = `# bash completion for onion: source <(onion completion bash)
_onion_complete() {
	local cur="${COMP_WORDS[COMP_CWORD]}"
	local words=("${COMP_WORDS[@]:0:COMP_CWORD}")
	local opts
	if [[ "$cur" == -* ]]; then
		opts=$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)
	else
		opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
	fi
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o bashdefault -o default -F _onion_complete onion
`

const zshCompletion = `#compdef onion
# zsh completion for onion: onion completion zsh > "${fpath[1]}/_onion", or source <(onion completion zsh)
_onion() {
	local -a opts
	local cur="${words[CURRENT]}"
	if [[ "$cur" == -* ]]; then
		opts=("${(@f)$(${words[1]} ${words[2,CURRENT-1]} "$cur" --generate-bash-completion 2>/dev/null)}")
	else
		opts=("${(@f)$(${words[1]} ${words[2,CURRENT-1]} --generate-bash-completion 2>/dev/null)}")
	fi
	if [[ -n "${opts[1]}" ]]; then
		compadd -a opts
	else
		_files
	fi
}
compdef _onion onion
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "Examples:\n" +
			"   source <(onion completion bash)                       # this bash session; in ~/.bashrc for every one\n" +
			"   onion completion zsh > \"${fpath[1]}/_onion\"           # zsh, then start a new shell\n" +
			"   onion completion fish > ~/.config/fish/completions/onion.fish",
		Action: func(c *cli.Context) error {
			switch shell := c.Args().First(); shell {
			case "bash":
				_, err := fmt.Fprint(c.App.Writer, bashCompletion)
				return err
			case "zsh":
				_, err := fmt.Fprint(c.App.Writer, zshCompletion)
				return err
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(c.App.Writer, s)
				return err
			default:
				return fmt.Errorf("completion %q: want bash, zsh or fish", shell)
			}
		},
	}
}
