package prompt

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// The socket's protocol: the client sends one JSON request line, the
// server answers with one JSON line once the person has answered. The
// client closing its connection withdraws the question.
type request struct {
	Question string `json:"question"`
	Secret   bool   `json:"secret"`
	Yield    bool   `json:"yield,omitempty"` // asked with a Yielding context
}

type response struct {
	Answer string `json:"answer,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Bounds of the socket: a request line, the time to send it, and the
// questions waiting at once.
const (
	maxRequest     = 4096
	requestTimeout = 10 * time.Second
	maxWaiting     = 64
)

// Listen opens the unix socket path for Serve, readable and writable by
// its owner only (a stale socket there is removed first).
func Listen(path string) (net.Listener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// Serve puts the questions that arrive on ln to a, until ln is closed.
// Each question is marked with label, so the person sees who asks.
func Serve(ln net.Listener, a Asker, label string) error {
	waiting := make(chan struct{}, maxWaiting)
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		select {
		case waiting <- struct{}{}:
			go func() {
				defer func() { <-waiting }()
				serveConn(conn, a, label)
			}()
		default:
			conn.Close() // too many questions waiting: the asker gets an error
		}
	}
}

func serveConn(conn net.Conn, a Asker, label string) {
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(requestTimeout))
	line, err := bufio.NewReaderSize(io.LimitReader(conn, maxRequest), maxRequest).ReadSlice('\n')
	var req request
	if err != nil || json.Unmarshal(line, &req) != nil {
		return
	}
	conn.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if req.Yield {
		ctx = Yielding(ctx)
	}
	go func() { // the asker sends nothing more: a read that returns means it has gone
		conn.Read(make([]byte, 1))
		cancel(errGone)
	}()
	var resp response
	answer, err := a.Ask(ctx, label+req.Question, req.Secret)
	if err != nil {
		resp.Error = err.Error()
	} else {
		resp.Answer = answer
	}
	json.NewEncoder(conn).Encode(resp)
}

// Client asks through the socket at Path; each Ask is one connection.
type Client struct {
	Path string
}

// Ask sends the question and waits for the answer; when ctx ends first it
// closes the connection, which withdraws the question.
func (c *Client) Ask(ctx context.Context, question string, secret bool) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.Path)
	if err != nil {
		return "", fmt.Errorf("reach the terminal's prompt socket: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := json.NewEncoder(conn).Encode(request{Question: question, Secret: secret, Yield: Yields(ctx)}); err != nil {
		return "", err
	}
	line, err := bufio.NewReaderSize(io.LimitReader(conn, 2*maxLine), 2*maxLine).ReadSlice('\n')
	if ctx.Err() != nil {
		return "", fmt.Errorf("%w: %w", ErrWithdrawn, ctx.Err())
	}
	if err != nil {
		return "", fmt.Errorf("prompt socket: %w", err)
	}
	var resp response
	if err := json.Unmarshal(line, &resp); err != nil {
		return "", fmt.Errorf("prompt socket: %w", err)
	}
	if resp.Error != "" {
		return "", errors.New(resp.Error)
	}
	return resp.Answer, nil
}
