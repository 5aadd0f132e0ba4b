package main

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"onion/internal/logfmt"
)

// The log flags, global (before the command) and on every command that
// logs (after it). A command's own flag, given on its command line, wins;
// then the global flag, its environment variable, and --config's key.
const (
	logLevelFlag  = "log-level"
	logFormatFlag = "log-format"
)

func globalLogFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: logLevelFlag, Value: "info", EnvVars: []string{"ONION_LOG_LEVEL"},
			Usage: "log verbosity: debug, info, warn or error (destinations appear only at debug)"},
		&cli.StringFlag{Name: logFormatFlag, Value: "text", EnvVars: []string{"ONION_LOG_FORMAT"},
			Usage: "log lines as text (human on a terminal: short time, part, colour; key=value elsewhere) or json (one object per line)"},
		// Set by `onion up` for its children: the part's name (relay3),
		// their human lines' prefix is up's, and json lines carry part=.
		&cli.StringFlag{Name: "log-part", Hidden: true},
		// Set by `onion up` on a colour terminal: its parts write to a pipe
		// but their lines end up on that terminal.
		&cli.BoolFlag{Name: "log-colour", Hidden: true},
	}
}

// commandLogFlags are the log flags after a command's name; they have no
// environment variable (the global flags read it) and --config sets them
// only where neither global flag nor environment did (applyLogKeys).
func commandLogFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: logLevelFlag, Value: "info", Usage: "debug, info, warn or error (also a global flag, ONION_LOG_LEVEL)"},
		&cli.StringFlag{Name: logFormatFlag, Value: "text", Usage: "text or json (also a global flag, ONION_LOG_FORMAT)"},
	}
}

// logFlag is a log flag's value: the command's own if it was given, else
// the global one's if set (flag or environment); "" if neither was.
func logFlag(c *cli.Context, name string) string {
	for _, ctx := range c.Lineage() {
		if hasLocalFlag(ctx, name) && ctx.IsSet(name) {
			return ctx.String(name)
		}
	}
	return ""
}

func hasLocalFlag(c *cli.Context, name string) bool {
	if c.Command == nil {
		return false
	}
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// newLogger builds the stderr logger every subcommand uses, at the level
// and in the format of the log flags.
func newLogger(c *cli.Context, role string) (*slog.Logger, error) {
	return newLoggerOn(c, role, os.Stderr, "")
}

// newLoggerOn is newLogger writing to w. With a prefix, text lines (human
// or plain, not json) start with it instead of naming role: up's own lines
// then look like its parts' lines, which up prefixes with their names.
func newLoggerOn(c *cli.Context, role string, w io.Writer, prefix string) (*slog.Logger, error) {
	var level slog.Level
	name := strings.Replace(cmp.Or(logFlag(c, logLevelFlag), "info"), "warning", "warn", 1)
	if err := level.UnmarshalText([]byte(name)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", name)
	}
	format, err := logfmt.Parse(logFlag(c, logFormatFlag))
	if err != nil {
		return nil, err
	}
	format = format.Resolve(term.IsTerminal(int(os.Stderr.Fd())))
	o := logfmt.Options{Level: level, Component: role, Colour: stderrIsColourTerminal() || c.Bool("log-colour")}
	part := c.String("log-part")
	switch {
	case part != "" && format == logfmt.Human:
		o.Component = "" // up puts the part's name in front
	case part != "" && format == logfmt.JSON:
		return slog.New(logfmt.New(w, format, o)).With("part", part), nil
	case prefix != "" && format != logfmt.JSON:
		o.Component, w = "", &prefixWriter{w: w, prefix: prefix}
	}
	return slog.New(logfmt.New(w, format, o)), nil
}

// prefixWriter puts prefix before each write: slog writes one line at a
// time.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix+string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// childLogFormat is the --log-format up gives its children: json stays
// json; text becomes human when up's own stderr is a terminal (up adds the
// parts' names and colours), plain otherwise.
func childLogFormat(c *cli.Context) (string, error) {
	f, err := logfmt.Parse(logFlag(c, logFormatFlag))
	if err != nil {
		return "", err
	}
	return string(f.Resolve(term.IsTerminal(int(os.Stderr.Fd())))), nil
}

// applyLogKeys sets the command's log flags from --config's log-level and
// log-format keys, where neither flag nor environment set them: the global
// flags are outside altsrc's reach, so this keeps its precedence by hand.
func applyLogKeys(c *cli.Context) error {
	path := c.String("config")
	if path == "" {
		return nil
	}
	src, err := configSource(c)
	if err != nil {
		return err
	}
	for _, name := range []string{logLevelFlag, logFormatFlag} {
		v, err := src.String(name)
		if err != nil {
			return err
		}
		if v == "" || logFlag(c, name) != "" {
			continue
		}
		if err := c.Set(name, v); err != nil {
			return err
		}
	}
	return nil
}

// underUp reports whether `onion up` runs this part: it leaves out the
// hints meant for someone running the part by hand (up prints its own).
func underUp(c *cli.Context) bool { return c.String("log-part") != "" }

// errorLine is how a command's error is printed: after "onion: ", once.
// The wire package's errors name themselves ("onion: short cell"), and a
// message may start with the command line it is about ("onion client is
// interactive"); neither gets a second "onion".
func errorLine(err error) string {
	msg := strings.TrimPrefix(err.Error(), "onion: ")
	if strings.HasPrefix(msg, "onion ") {
		return msg
	}
	return "onion: " + msg
}
