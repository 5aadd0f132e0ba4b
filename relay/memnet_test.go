package relay_test

import (
	"testing"

	"onion/onion/oniontest"
	"onion/relay"
)

// pipeRelay is a real relay serving at addr on an in-memory network, for
// tests inside a synctest bubble (where a real socket would stall the fake
// clock).
type pipeRelay struct {
	keys oniontest.Keys
	addr string
	net  *oniontest.MemNet
	logs *oniontest.Logs
}

// startPipeRelay runs a relay called name at addr on n, extending by list
// (nil: no list), until the test ends.
func startPipeRelay(t *testing.T, n *oniontest.MemNet, name, addr string, list *relayList) *pipeRelay {
	t.Helper()
	pr := &pipeRelay{addr: addr, net: n}
	pr.keys, pr.logs, _ = serveRelay(t, name, n.Listen(addr), func(cfg *relay.Config) {
		cfg.DialLink = n.Dial
		if list != nil {
			cfg.Relays = list
		}
	})
	return pr
}

// link opens a link to the relay, as a client.
func (pr *pipeRelay) link(t *testing.T) *oniontest.Peer {
	t.Helper()
	conn, err := pr.net.Dial(t.Context(), "tcp", pr.addr)
	if err != nil {
		t.Fatal(err)
	}
	p := oniontest.NewPeer(t, conn)
	p.Preface()
	return p
}

// create builds a one-hop circuit with id on p.
func (pr *pipeRelay) create(p *oniontest.Peer, id uint32) *oniontest.ClientCirc {
	return p.Create(id, pr.keys.ID(), pr.keys.OnionPub())
}
