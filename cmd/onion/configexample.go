package main

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

func configCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "print a commented example --config file",
		Subcommands: []*cli.Command{{
			Name:      "example",
			Usage:     "print every flag of a command (up, proxy, relay, directory, hiddenserver, client) as TOML, commented out, with its default",
			ArgsUsage: "up|proxy|relay|directory|hiddenserver|client",
			Description: "Example: onion config example proxy > proxy.toml; uncomment what you change;\n" +
				"then onion proxy --config proxy.toml. A flag or its environment variable wins over the file.",
			Action: func(c *cli.Context) error {
				name := cmp.Or(c.Args().First(), "proxy")
				for _, cmd := range configurable() {
					if cmd.Name == name {
						return writeConfigExample(c.App.Writer, cmd)
					}
				}
				return fmt.Errorf("config example %q: want up, proxy, relay, directory, hiddenserver or client", name)
			},
		}},
	}
}

// configurable are the commands that take --config.
func configurable() []*cli.Command {
	return []*cli.Command{upCommand(), proxyCommand(), relayCommand(), directoryCommand(), hiddenserverCommand(), clientCommand()}
}

// writeConfigExample writes cmd's flags as commented TOML lines, each
// under its usage, with its default value.
func writeConfigExample(w io.Writer, cmd *cli.Command) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# onion %s --config FILE: flags by their own names (a flag or its environment variable wins over this file).\n", cmd.Name)
	for _, f := range append(cmd.Flags, commandLogFlags()...) {
		value, ok := tomlDefault(f)
		if !ok {
			continue
		}
		if u, ok := f.(cli.DocGenerationFlag); ok {
			fmt.Fprintf(&b, "\n# %s\n", strings.ReplaceAll(strings.ReplaceAll(u.GetUsage(), "`", ""), "\n", "\n# "))
		}
		fmt.Fprintf(&b, "# %s = %s\n", f.Names()[0], value)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tomlDefault is f's default as a TOML value; hidden flags have none.
func tomlDefault(f cli.Flag) (string, bool) {
	switch f := f.(type) {
	case *cli.StringFlag:
		return strconv.Quote(f.Value), !f.Hidden
	case *cli.IntFlag:
		return strconv.Itoa(f.Value), !f.Hidden
	case *cli.BoolFlag:
		return strconv.FormatBool(f.Value), !f.Hidden
	case *cli.DurationFlag:
		return strconv.Quote(f.Value.String()), !f.Hidden
	case *cli.StringSliceFlag:
		var vals []string
		if f.Value != nil {
			for _, v := range f.Value.Value() {
				vals = append(vals, strconv.Quote(v))
			}
		}
		return "[" + strings.Join(vals, ", ") + "]", !f.Hidden
	}
	return "", false
}
