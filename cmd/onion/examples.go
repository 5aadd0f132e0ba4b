package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// examples are shown at the end of each command's --help, by the path of
// words after `onion`. TestHelpExamples checks that every visible command
// has some and that their flags exist. KEY and the 192.0.2.x addresses
// (documentation addresses) stand for your own.
var examples = map[string][]string{
	"directory": {
		"onion directory --listen 0.0.0.0:7000 --data-dir ./onion-data/directory",
		"onion directory --listen 127.0.0.1:7000 --allow-private-addresses --data-dir ./lab/directory   # a lab on one machine",
	},
	"relay": {
		"onion relay --listen 0.0.0.0:9001 --address 192.0.2.11:9001 --directory http://192.0.2.10:7000 --directory-key KEY --data-dir ./onion-data/relay",
		"onion relay --listen 127.0.0.1:0 --directory http://127.0.0.1:7000 --directory-key KEY --exit --exit-policy accept-all --data-dir ./lab/relay1",
	},
	"proxy": {
		"onion proxy --socks 127.0.0.1:1080 --directory http://192.0.2.10:7000 --directory-key KEY",
		"curl --socks5-hostname 127.0.0.1:1080 https://example.com/",
	},
	"hiddenserver": {
		"onion hiddenserver adduser --users ./hs/users alice",
		"onion hiddenserver --directory http://192.0.2.10:7000 --directory-key KEY --data-dir ./hs --users ./hs/users",
		"onion hiddenserver --directory http://192.0.2.10:7000 --directory-key KEY --data-dir ./hs --forward 80=127.0.0.1:8080",
	},
	"hiddenserver adduser": {
		"onion hiddenserver adduser --users ./hs/users alice",
		"ONION_PASSWORD=secret onion hiddenserver adduser --users ./hs/users bob   # no prompt, for scripts",
	},
	"hiddenserver client-key": {
		"onion hiddenserver client-key --key ./alice.key --clients ./hs/clients alice",
	},
	"client": {
		"onion client --directory http://192.0.2.10:7000 --directory-key KEY --user alice ADDRESS.onion",
	},
	"up": {
		"onion up",
		"onion up --relays 7 --exits 3 --socks 127.0.0.1:0 --info-file ./up.json --data-dir ./up-data",
	},
	"status": {
		"onion status --info-file ./up.json",
		"onion status --status 127.0.0.1:PORT --json",
	},
	"config": {
		"onion config example up > up.toml",
	},
	"config example": {
		"onion config example proxy > proxy.toml",
		"onion proxy --config proxy.toml",
	},
	"sim": {
		"onion sim   # the figures docs/SECURITY.md quotes",
		"onion sim --sybils 3000 --attacker-share 0.3 --weight-cap 0",
	},
	"bench": {
		"onion bench --quick",
		"onion bench --socks 127.0.0.1:1080 --info-file ./up.json --size 64MiB",
	},
	"completion": {
		"source <(onion completion bash)",
		"onion completion fish > ~/.config/fish/completions/onion.fish",
	},
}

// withExamples appends each command's examples to its --help text.
func withExamples(app *cli.App) *cli.App {
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, cmd := range cmds {
			p := strings.TrimSpace(path + " " + cmd.Name)
			if ex := examples[p]; len(ex) > 0 && !strings.Contains(cmd.Description, "Example") {
				cmd.Description = strings.TrimRight(cmd.Description, "\n") + "\n\nExamples:\n   " + strings.Join(ex, "\n   ")
				cmd.Description = strings.TrimPrefix(cmd.Description, "\n\n")
			}
			walk(p, cmd.Subcommands)
		}
	}
	walk("", app.Commands)
	return app
}
