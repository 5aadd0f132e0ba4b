package proxy

// The interactive client (`onion client ADDRESS`): a terminal conversation
// with a hidden service. Typed lines go to its echo port and come back
// through the network; /login runs the challenge-response; /open asks the
// service for a URL reply. Whatever the service sends is printed through
// terminalSafe: it must not be able to steer the user's terminal.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"onion/client"
	"onion/onion"
)

// Chat is one interactive session with a hidden service.
type Chat struct {
	Manager *client.Manager
	Address string        // ADDRESS.onion
	Prompt  Prompter      // the terminal; lines are read through it
	Out     io.Writer     // where replies and errors go
	Color   bool          // red errors
	URLs    <-chan string // URL replies, as the Manager's OpenURL received them
	Opener  *URLOpener
	User    string

	echo   net.Conn
	reader *bufio.Reader
}

// maxEchoLine bounds one line the service echoes: the chat holds it whole.
const maxEchoLine = 64 << 10

const chatHelp = `Type a line to send it to the service's echo port; it comes back through the network.
  /login NAME   log in as NAME (asks for the password; it never leaves this machine)
  /open NAME    ask the service for the URL named NAME and open it in your browser
  /help         this text
  /quit         leave (Ctrl-D works too)`

// Run talks to the service until /quit, end of input or ctx.
func (c *Chat) Run(ctx context.Context) error {
	fmt.Fprintf(c.Out, "onion client: talking to %s\n%s\n", c.Address, chatHelp)
	defer c.closeEcho()
	for ctx.Err() == nil {
		line, err := c.Prompt.Ask(ctx, "> ", false)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		line = strings.TrimSpace(line)
		cmd, arg, _ := strings.Cut(line, " ")
		switch {
		case line == "":
		case cmd == "/quit" || cmd == "/exit":
			return nil
		case cmd == "/help":
			fmt.Fprintln(c.Out, chatHelp)
		case cmd == "/login":
			c.report(c.login(ctx, strings.TrimSpace(arg)))
		case cmd == "/open":
			c.report(c.open(ctx, strings.TrimSpace(arg)))
		case strings.HasPrefix(cmd, "/"):
			c.report(fmt.Errorf("unknown command %s (try /help)", cmd))
		default:
			c.report(c.say(ctx, line))
		}
	}
	return nil
}

func (c *Chat) report(err error) {
	if err == nil {
		return
	}
	msg := "error: " + terminalSafe(err.Error()) // it may quote the service's words
	var oe *client.OpenError
	if errors.As(err, &oe) && oe.Reason == onion.EndExitPolicy && c.User == "" {
		msg += "\n(log in with /login NAME)"
	}
	if c.Color {
		msg = "\x1b[31m" + msg + "\x1b[0m"
	}
	fmt.Fprintln(c.Out, msg)
}

func (c *Chat) dial(ctx context.Context, port uint16) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 3*time.Minute) // a person may be typing a password
	defer cancel()
	return c.Manager.DialStream(dctx, client.DialRequest{Host: c.Address, Port: port, Username: c.User})
}

func (c *Chat) closeEcho() {
	if c.echo != nil {
		c.echo.Close()
		c.echo, c.reader = nil, nil
	}
}

// say sends one line to the echo port and prints what comes back.
func (c *Chat) say(ctx context.Context, line string) error {
	if c.echo == nil {
		conn, err := c.dial(ctx, 7)
		if err != nil {
			return err
		}
		c.echo, c.reader = conn, bufio.NewReaderSize(conn, maxEchoLine)
	}
	c.echo.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c.echo, line+"\n"); err != nil {
		c.closeEcho()
		return err
	}
	back, err := c.reader.ReadSlice('\n')
	if err != nil {
		c.closeEcho()
		return fmt.Errorf("no echo: %w", err) // bufio.ErrBufferFull: a line over maxEchoLine
	}
	fmt.Fprintf(c.Out, "< %s\n", terminalSafe(strings.TrimSuffix(string(back), "\n")))
	return nil
}

// login switches to user name and proves the password on a fresh stream.
func (c *Chat) login(ctx context.Context, name string) error {
	if err := onion.CheckUserName(name); err != nil {
		return fmt.Errorf("/login NAME: %w", err)
	}
	c.closeEcho()
	c.User = name
	conn, err := c.dial(ctx, 7)
	if err != nil {
		return err
	}
	c.echo, c.reader = conn, bufio.NewReaderSize(conn, maxEchoLine)
	fmt.Fprintf(c.Out, "logged in as %s\n", name)
	return nil
}

// open asks the service for a URL reply and opens it as --open-urls says.
func (c *Chat) open(ctx context.Context, name string) error {
	if name == "" {
		return errors.New("/open NAME: which link? (the service's page lists them)")
	}
	hc := &http.Client{
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.dial(ctx, 80)
		}},
		Timeout: 3 * time.Minute,
	}
	resp, err := hc.Get("http://" + c.Address + "/open/" + name)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("service answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	select {
	case u := <-c.URLs:
		c.Opener.Handle(u)
	case <-time.After(5 * time.Second):
		return errors.New("the service answered but sent no URL reply")
	}
	return nil
}
