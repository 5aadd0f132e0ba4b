// Command onion runs the parts of the onion network: the directory, relays,
// the SOCKS5 proxy, the hidden server, and `up`, which runs a whole network
// on this machine. It is wiring only: each subcommand turns its flags into a
// Config and calls the package that does the work.
//
// Every long-running subcommand prints exactly one line to stdout when it is
// ready ("<role> ready key=value ..."), and logs to stderr.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

func main() {
	// A write to a closed stdout or stderr (`onion up | tee log`, then
	// Ctrl-C, which ends tee first) is an error the loggers drop, not death
	// by SIGPIPE halfway through stopping: the clean-up must run (the
	// temporary data dir holds private keys).
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, errorLine(err))
		stop()
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return withExamples(&cli.App{
		Name:  "onion",
		Usage: "a small onion-routing network: directory, relays, SOCKS5 proxy, hidden server",
		Description: "Run `onion up` to start a whole network on this machine, then point curl at its\n" +
			"SOCKS5 proxy. The other commands run one part each, for a network spread over machines.",
		Flags: globalLogFlags(),
		Commands: []*cli.Command{
			withConfigFile(directoryCommand()),
			withConfigFile(relayCommand()),
			withConfigFile(proxyCommand()),
			withConfigFile(hiddenserverCommand()),
			withConfigFile(clientCommand()),
			withConfigFile(upCommand()),
			statusCommand(),
			configCommand(),
			benchCommand(),
			benchHopCommand(),
			simCommand(),
			completionCommand(),
		},
		EnableBashCompletion: true,
	})
}
