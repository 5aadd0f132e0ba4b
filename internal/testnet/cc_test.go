package testnet

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"onion/client"
	"onion/hiddenserver"
)

// echoThrough sends msg through a stream of m to req and checks it comes back.
func echoThrough(t *testing.T, n *Net, req client.DialRequest, msg []byte) {
	t.Helper()
	conn, err := n.Manager.DialStream(Deadline(t, 30*time.Second), req)
	if err != nil {
		t.Fatalf("dial %s: %v", req.Host, err)
	}
	defer conn.Close()
	go func() {
		conn.Write(msg)
		conn.(interface{ CloseWrite() error }).CloseWrite()
	}()
	if got, err := io.ReadAll(conn); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo via %s: %d bytes, err %v; want %d back", req.Host, len(got), err, len(msg))
	}
}

// TestCongestionControlNegotiated: the exit and the hidden service (across
// its meeting relay, inside the end-to-end layer) accept the client's
// CC_OFFER, and 2 MiB each way go through under the windows; with
// NoCongestionControl nothing is offered and the same bytes go through
// on stream windows alone. Runtime ~5 s.
func TestCongestionControlNegotiated(t *testing.T) {
	msg := bytes.Repeat([]byte("congestion "), 200000) // ~2 MiB, past any initial window
	for _, off := range []bool{false, true} {
		n := Start(t, Options{HiddenServer: true, Proxy: func(cfg *client.Config) { cfg.NoCongestionControl = off }})
		_, port, _ := net.SplitHostPort(echoServer(t))
		echoThrough(t, n, client.DialRequest{Host: "localhost", Port: mustPort(t, port)}, msg)
		echoThrough(t, n, client.DialRequest{Host: n.Service.Address(), Port: hiddenserver.PortEcho}, msg)
		carried := 0
		for _, ci := range n.Manager.Circuits() {
			if ci.BytesReceived < uint64(len(msg)) {
				continue // a directory tunnel, say
			}
			carried++
			if ci.CongestionControl == off {
				t.Errorf("NoCongestionControl %v: circuit %d has congestion control %v", off, ci.ID, ci.CongestionControl)
			}
			if !off && ci.CwndCells == 0 {
				t.Errorf("circuit %d: no window", ci.ID)
			}
		}
		if carried != 2 {
			t.Errorf("NoCongestionControl %v: %d circuits carried the echoes, want 2", off, carried)
		}
	}
}
