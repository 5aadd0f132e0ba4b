package relay_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"net"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"onion/onion"
	"onion/onion/oniontest"
	"onion/relay"
)

// TestCircuitsPerPeer: past its share of the relay's circuits, a peer's
// CREATE gets DESTROY(resource) on any of its links, while another peer
// still gets circuits; a circuit that ends gives its place back.
func TestCircuitsPerPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mr := startMemRelay(t, "r1", func(cfg *relay.Config) {
			cfg.Limits.MaxCircuitsPerPeer = 2
		})
		a1, a2 := mr.link(peerA), mr.link(peerA)
		mr.create(a1, 1)
		mr.create(a2, 1)
		sendCreate(t, a2, mr.keys, 2)
		a2.ExpectDestroy(2, onion.DestroyResource)
		mr.create(mr.link(peerB), 1)

		a1.Send(onion.Cell{CircID: 1, Cmd: onion.CmdDestroy, Payload: []byte{byte(onion.DestroyRequested)}})
		synctest.Wait()
		mr.create(a2, 3)
		if w := warnings(mr.logs, "refused CREATE"); len(w) != 1 || w[0].Attrs["err"] != "resource limit: 2 circuits (one peer)" {
			t.Errorf("refusal logged as %v", w)
		}
	})
}

// TestNoPeerShares: with the per-peer shares off (a network on one
// machine), one peer may take up to the bounds for all.
func TestNoPeerShares(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mr := startMemRelay(t, "r1", func(cfg *relay.Config) {
			cfg.MaxCircuits = 3
			cfg.Limits = relay.Limits{NoPeerShares: true, MaxCircuitsPerPeer: 1, MaxLinksPerPeer: 1}
		})
		a1, a2 := mr.link(peerA), mr.link(peerA)
		mr.create(a1, 1)
		mr.create(a1, 2)
		mr.create(a2, 1)
		sendCreate(t, a2, mr.keys, 2)
		a2.ExpectDestroy(2, onion.DestroyResource) // the bound for all still holds
	})
}

// TestNextLinkSharePerPeer: all circuits from this relay to one next relay
// share one link; a peer may hold only its share of it. Past that its
// EXTEND fails with DESTROY(resource) as the reason, while another peer's
// circuits still extend over the same link.
func TestNextLinkSharePerPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nextKeys := oniontest.RelayKeys("next")
		next := newMemListener()
		list := &relayList{}
		list.add(nextKeys.ID(), "192.0.2.99:9001") // a relay extends only to listed relays
		mr := startMemRelay(t, "middle", func(cfg *relay.Config) {
			cfg.Relays = list
			cfg.Limits.MaxNextCircuitsPerPeer = 2
			cfg.DialLink = func(ctx context.Context, _, _ string) (net.Conn, error) {
				ours, theirs := net.Pipe()
				select {
				case next.conns <- theirs:
					return ours, nil
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
		})
		links := playNextRelay(t, next, nextKeys)

		a := mr.link(peerA)
		extend := func(p *oniontest.Peer, id uint32) onion.RelayMsg {
			c := mr.create(p, id)
			_, create, err := onion.NewClientHandshake(nil, nextKeys.ID(), nextKeys.OnionPub())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := onion.Extend{Create: create, Address: "192.0.2.99:9001"}.MarshalBinary()
			p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayExtend, Body: body}))
			return p.Msg(c)
		}
		for id := uint32(1); id <= 2; id++ {
			if m := extend(a, id); m.Cmd != onion.RelayExtended {
				t.Fatalf("EXTEND %d answered %v", id, m.Cmd)
			}
		}
		m := extend(mr.link(peerA), 3) // another link from the same peer
		if m.Cmd != onion.RelayExtendFailed || onion.DestroyReason(m.Body[0]) != onion.DestroyResource {
			t.Fatalf("third EXTEND from one peer answered %v %x, want EXTEND_FAILED (resource)", m.Cmd, m.Body)
		}
		if m := extend(mr.link(peerB), 1); m.Cmd != onion.RelayExtended {
			t.Fatalf("another peer's EXTEND answered %v", m.Cmd)
		}
		// A circuit that ends gives its place back.
		a.Send(onion.Cell{CircID: 1, Cmd: onion.CmdDestroy, Payload: []byte{byte(onion.DestroyRequested)}})
		synctest.Wait()
		if m := extend(a, 4); m.Cmd != onion.RelayExtended {
			t.Fatalf("EXTEND after a DESTROY answered %v", m.Cmd)
		}
		if n := links(); n != 1 {
			t.Errorf("%d links to the next relay, want 1 shared", n)
		}
	})
}

// playNextRelay accepts links on ln as the relay with keys k and answers
// every CREATE on them until ln closes (when the test ends). links says how
// many it accepted so far.
func playNextRelay(t *testing.T, ln *memListener, k oniontest.Keys) (links func() int) {
	var n atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			go answerCreates(conn, k)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return func() int { return int(n.Load()) }
}

// answerCreates plays a relay on conn: it answers every CREATE until conn
// closes.
func answerCreates(conn net.Conn, k oniontest.Keys) {
	defer conn.Close()
	if _, err := conn.Write([]byte(onion.LinkPreface)); err != nil {
		return
	}
	if err := onion.ReadPreface(conn); err != nil {
		return
	}
	r := bufio.NewReader(conn)
	for {
		cell, err := onion.ReadCell(r, nil)
		if err != nil {
			return
		}
		if cell.Cmd != onion.CmdCreate {
			continue
		}
		if created, _, err := oniontest.AnswerCreate(k.RelayKeys(), cell); err == nil {
			conn.Write(onion.AppendCell(nil, created))
		}
	}
}

// TestJoinsPerPeer: a peer may join only its share of a service circuit's
// clients; past it, MEET gets MEET_FAILED and the service hears nothing,
// while another peer's MEET is still introduced. A join that ends gives
// its place back.
func TestJoinsPerPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mr := startMemRelay(t, "meeting", func(cfg *relay.Config) {
			cfg.Limits.MaxJoinsPerPeer = 2
		})
		svcPeer := mr.link(peerC)
		svc := mr.create(svcPeer, 1)
		pub, priv, _ := ed25519.GenerateKey(nil)
		sig := ed25519.Sign(priv, onion.EstablishSignedBytes(mr.keys.ID(), pub))
		svcPeer.Send(svc.Cell(onion.RelayMsg{Cmd: onion.RelayEstablish, Body: append(append([]byte(nil), pub...), sig...)}))
		if m := svcPeer.Msg(svc); m.Cmd != onion.RelayEstablished {
			t.Fatalf("ESTABLISH answered %v", m.Cmd)
		}
		meetBody := append(append([]byte(nil), pub...), make([]byte, onion.CreateLen-len(pub))...)
		meet := func(p *oniontest.Peer, id uint32) *oniontest.ClientCirc {
			c := mr.create(p, id)
			p.Send(c.Cell(onion.RelayMsg{Cmd: onion.RelayMeet, Body: meetBody}))
			return c
		}
		introduced := func() uint16 {
			m := svcPeer.Msg(svc)
			if m.Cmd != onion.RelayIntroduce {
				t.Fatalf("service got %v, want INTRODUCE", m.Cmd)
			}
			return m.Stream
		}

		a := mr.link(peerA)
		first := meet(a, 1)
		firstJoin := introduced()
		meet(a, 2)
		introduced()
		a2 := mr.link(peerA)
		third := meet(a2, 3)
		if m := a2.Msg(third); m.Cmd != onion.RelayMeetFailed || onion.MeetReason(m.Body[0]) != onion.MeetRefused {
			t.Fatalf("third MEET from one peer answered %v %x", m.Cmd, m.Body)
		}
		meet(mr.link(peerB), 1)
		introduced()

		// The client leaves; the service hears of it, and the place is free.
		// (Read in the order the relay sends: over net.Pipe it waits for
		// each.)
		a.Send(first.Cell(onion.RelayMsg{Cmd: onion.RelayE2EEnd}))
		if m := a.Msg(first); m.Cmd != onion.RelayMeetFailed {
			t.Fatalf("client that left got %v, want MEET_FAILED", m.Cmd)
		}
		if m := svcPeer.Msg(svc); m.Cmd != onion.RelayE2EEnd || m.Stream != firstJoin {
			t.Fatalf("service got %v on join %d, want E2E_END on %d", m.Cmd, m.Stream, firstJoin)
		}
		meet(a, 4)
		introduced()
	})
}

// sendCreate sends a CREATE for id to the relay with keys k.
func sendCreate(t *testing.T, p *oniontest.Peer, k oniontest.Keys, id uint32) {
	t.Helper()
	_, create, err := onion.NewClientHandshake(nil, k.ID(), k.OnionPub())
	if err != nil {
		t.Fatal(err)
	}
	p.Send(onion.Cell{CircID: id, Cmd: onion.CmdCreate, Payload: create})
}
