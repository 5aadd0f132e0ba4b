package circuit_test

import (
	"testing"
	"testing/synctest"

	"onion/onion"
	"onion/onion/circuit"
)

// TestLinkQuietCircuitNotBehindBurst: two circuits on one link. While a
// burst of 200 cells of circuit 1 waits (the peer is not reading yet), a
// cell of circuit 2 is sent; it arrives within one batch of the cell being
// written, not behind the burst.
func TestLinkQuietCircuitNotBehindBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := linkPair(t)
		go func() {
			for i := range 200 {
				a.Send(onion.Cell{CircID: 1, Cmd: onion.CmdRelay, Payload: make([]byte, 1000+i)})
			}
		}()
		synctest.Wait() // the burst is queued behind the first, blocked, write
		if err := a.Send(onion.Cell{CircID: 2, Cmd: onion.CmdRelay, Payload: []byte("quiet")}); err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			c, err := b.ReadCell()
			if err != nil {
				t.Fatal(err)
			}
			if c.CircID == 2 {
				if i > 1 {
					t.Fatalf("the quiet circuit's cell came %d cells behind the burst's first, want right behind it", i)
				}
				break
			}
			if i > circuit.MaxBatchCells {
				t.Fatalf("%d cells of the burst and still no cell of the quiet circuit", i)
			}
		}
	})
}

// TestLinkSendOriginBoundsCircuit: SendOrigin waits while OriginQueueLen
// cells of its circuit are queued, but another circuit's cell goes in, and
// circuit 1's cells still come out in order.
func TestLinkSendOriginBoundsCircuit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := linkPair(t)
		go a.Send(onion.Cell{CircID: 1, Cmd: onion.CmdRelay, Payload: []byte{0}}) // blocks in its write: nobody reads yet
		synctest.Wait()
		sent := make(chan int, 100)
		go func() {
			for i := 1; i <= 100; i++ {
				if a.SendOrigin(onion.Cell{CircID: 1, Cmd: onion.CmdRelay, Payload: []byte{byte(i)}}) != nil {
					return
				}
				sent <- i
			}
		}()
		synctest.Wait()
		if n := len(sent); n != circuit.OriginQueueLen {
			t.Fatalf("%d cells of one circuit queued, want %d", n, circuit.OriginQueueLen)
		}
		if err := a.SendOrigin(onion.Cell{CircID: 2, Cmd: onion.CmdRelay, Payload: []byte("other")}); err != nil {
			t.Fatal(err)
		}
		next := 0
		for next <= 100 {
			c, err := b.ReadCell()
			if err != nil {
				t.Fatal(err)
			}
			if c.CircID != 1 {
				continue
			}
			if int(c.Payload[0]) != next {
				t.Fatalf("circuit 1: cell %d, want %d", c.Payload[0], next)
			}
			next++
		}
	})
}
