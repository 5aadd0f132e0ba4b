package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"
)

// withConfigFile lets every flag of cmd also come from a TOML file named by
// --config (or ONION_CONFIG), one `name = value` per flag, with the flag's
// own name: socks = "127.0.0.1:1080", relays = 5, wait-connected = true,
// circuit-lifetime = "10m". The CLI library's altsrc applies it, with its
// precedence: a flag given on the command line, then its environment
// variable, then the file, then the default.
func withConfigFile(cmd *cli.Command) *cli.Command {
	flags := make([]cli.Flag, 0, len(cmd.Flags)+1)
	var required []string
	for _, f := range cmd.Flags {
		// The library checks required flags before the file is read:
		// checked here instead, once it has been.
		if r, ok := f.(interface{ IsRequired() bool }); ok && r.IsRequired() {
			required = append(required, f.Names()[0])
			unrequire(f)
		}
		flags = append(flags, fromFile(f))
	}
	flags = append(flags, commandLogFlags()...) // not from the file: see applyLogKeys
	flags = append(flags, &cli.StringFlag{Name: "config", EnvVars: []string{"ONION_CONFIG"},
		Usage: "read flags from this TOML file, one NAME = VALUE per flag (flag > environment > file > default)"})
	cmd.Flags = flags
	apply := altsrc.InitInputSourceWithContext(flags, configSource)
	cmd.Before = func(c *cli.Context) error {
		if err := apply(c); err != nil {
			return fmt.Errorf("--config %s: %s", c.String("config"), strings.ReplaceAll(err.Error(), "\n", " "))
		}
		if err := applyLogKeys(c); err != nil {
			return fmt.Errorf("--config %s: %w", c.String("config"), err)
		}
		return missingFlags(c, required...)
	}
	return cmd
}

// unrequire clears a flag's Required (string and list flags have it here).
func unrequire(f cli.Flag) {
	switch f := f.(type) {
	case *cli.StringFlag:
		f.Required = false
	case *cli.StringSliceFlag:
		f.Required = false
	}
}

// configSource reads the --config file; without one, nothing.
func configSource(c *cli.Context) (altsrc.InputSourceContext, error) {
	path := c.String("config")
	if path == "" {
		return altsrc.NewMapInputSource("", map[any]any{}), nil
	}
	if strings.Contains(path, "://") { // altsrc would fetch a URL: a config is a local file
		return nil, fmt.Errorf("%s is not a file path", path)
	}
	if err := checkConfigKeys(path, c.Command); err != nil {
		return nil, err
	}
	return altsrc.NewTomlSourceFromFile(path)
}

// fromFile wraps a flag so that altsrc can set it from the file. Flags of
// other types stay command line and environment only.
func fromFile(f cli.Flag) cli.Flag {
	switch f := f.(type) {
	case *cli.StringFlag:
		return altsrc.NewStringFlag(f)
	case *cli.IntFlag:
		return altsrc.NewIntFlag(f)
	case *cli.BoolFlag:
		return altsrc.NewBoolFlag(f)
	case *cli.DurationFlag:
		return altsrc.NewDurationFlag(f)
	case *cli.StringSliceFlag:
		return altsrc.NewStringSliceFlag(f)
	}
	return f
}

// missingFlags is the error for those of names that are not set, nil if
// all are.
func missingFlags(c *cli.Context, names ...string) error {
	var missing []string
	for _, name := range names {
		if !c.IsSet(name) {
			missing = append(missing, "--"+name)
		}
	}
	if missing != nil {
		return fmt.Errorf("%s: %s not set: give them as flags, in the environment or in --config",
			c.Command.Name, strings.Join(missing, ", "))
	}
	return nil
}
