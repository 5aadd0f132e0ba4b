package main

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"onion/onion"
	"onion/onion/circuit"
)

// relayCell is RELAY cell number i of a test: its payload names it.
func relayCell(i int) []byte {
	return onion.AppendCell(nil, onion.Cell{CircID: 5, Cmd: onion.CmdRelay, Payload: fmt.Appendf(nil, "cell %02d of a circuit", i)})
}

var (
	createdCell = onion.AppendCell(nil, onion.Cell{CircID: 5, Cmd: onion.CmdCreated, Payload: bytes.Repeat([]byte{9}, 64)})
	destroyCell = onion.AppendCell(nil, onion.Cell{CircID: 5, Cmd: onion.CmdDestroy, Payload: []byte{1}})
)

// through passes cells 1..n through f, a DESTROY before each (which must
// neither count nor change), and returns what came out, DESTROYs left out.
func through(t *testing.T, f *filter, n int) [][]byte {
	t.Helper()
	var out [][]byte
	for i := 1; i <= n; i++ {
		if got := f.apply(slices.Clone(destroyCell)); len(got) != 1 || !bytes.Equal(got[0], destroyCell) {
			t.Fatalf("a DESTROY came out as %q", got)
		}
		out = append(out, f.apply(relayCell(i))...)
	}
	return out
}

func TestFilterModes(t *testing.T) {
	cells := func(is ...int) [][]byte {
		var out [][]byte
		for _, i := range is {
			out = append(out, relayCell(i))
		}
		return out
	}
	tampered := func(i int) []byte {
		c := relayCell(i)
		c[onion.CellHeaderLen+(len(c)-onion.CellHeaderLen)/2] ^= 0x10
		return c
	}
	for _, tc := range []struct {
		mode string
		want [][]byte
	}{
		{"tamper", append(append(append(append(cells(1, 2, 3, 4, 5, 6, 7), tampered(8)), cells(9, 10, 11, 12, 13, 14, 15)...), tampered(16)), relayCell(17))},
		{"replay", cells(1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 10, 11, 12, 13, 14, 15, 16, 16, 17)},
		{"drop", cells(1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 17)},
		// The cell after a held one is not counted: the next held is 17.
		{"reorder", cells(1, 2, 3, 4, 5, 6, 7, 9, 8, 10, 11, 12, 13, 14, 15, 16)},
		{"forge", cells(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			r, err := newRogue(tc.mode, bytes.NewReader(make([]byte, 64)))
			if err != nil {
				t.Fatal(err)
			}
			got := through(t, &filter{r: r, dir: forward}, 17)
			if !slices.EqualFunc(got, tc.want, bytes.Equal) {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// TestFilterForgesCreated: forge fills a CREATED's payload with the
// rogue's random bytes and keeps its header; other modes leave it alone.
func TestFilterForgesCreated(t *testing.T) {
	for _, mode := range []string{"forge", "tamper"} {
		r, _ := newRogue(mode, bytes.NewReader(bytes.Repeat([]byte{0xaa}, 64)))
		got := (&filter{r: r, dir: backward}).apply(slices.Clone(createdCell))
		want := createdCell
		if mode == "forge" {
			want = append(slices.Clone(createdCell[:onion.CellHeaderLen]), bytes.Repeat([]byte{0xaa}, 64)...)
		}
		if len(got) != 1 || !bytes.Equal(got[0], want) {
			t.Errorf("%s: CREATED came out as %x", mode, got)
		}
	}
}

// TestFilterCountsPerDirection: the links of one direction share a count;
// the other direction counts apart.
func TestFilterCountsPerDirection(t *testing.T) {
	r, _ := newRogue("drop", nil)
	links := []*filter{{r: r, dir: forward}, {r: r, dir: forward}}
	back := &filter{r: r, dir: backward}
	for i := 1; i <= 7; i++ {
		if len(links[i%2].apply(relayCell(i))) != 1 || len(back.apply(relayCell(i))) != 1 {
			t.Fatalf("cell %d dropped: the directions share a count", i)
		}
	}
	if len(links[0].apply(relayCell(8))) != 0 {
		t.Error("the 8th forward cell, across two links, was not dropped")
	}
	if len(back.apply(relayCell(8))) != 0 {
		t.Error("the 8th backward cell was not dropped")
	}
}

func TestNewRogueRefusesUnknownMode(t *testing.T) {
	for _, mode := range []string{"", "tampre"} {
		if _, err := newRogue(mode, nil); err == nil {
			t.Errorf("newRogue(%q) succeeded", mode)
		}
	}
}

// TestConnUnderALink: a real link over the wrapped conn completes its
// preface exchange, and of the RELAY cells it sends the 8th and 16th go
// missing (drop), whatever writes the link makes of its batches.
func TestConnUnderALink(t *testing.T) {
	r, _ := newRogue("drop", nil)
	near, far := net.Pipe()
	wrapped := r.wrap(near, forward)
	links := make(chan *circuit.Link, 1)
	go func() {
		l, err := circuit.Handshake(far)
		if err != nil {
			t.Error(err)
			far.Close()
		}
		links <- l
	}()
	sender, err := circuit.Handshake(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	receiver := <-links
	if receiver == nil {
		t.FailNow()
	}
	defer receiver.Close()
	go func() {
		for i := 1; i <= 20; i++ {
			c, _ := onion.ParseCell(relayCell(i))
			sender.Send(c)
		}
	}()
	var got []string
	deadline := time.AfterFunc(10*time.Second, func() { receiver.Close() })
	defer deadline.Stop()
	for len(got) < 18 {
		c, err := receiver.ReadCell()
		if err != nil {
			t.Fatalf("after %d cells: %v", len(got), err)
		}
		got = append(got, string(c.Payload))
	}
	for _, p := range got {
		if p == "cell 08 of a circuit" || p == "cell 16 of a circuit" {
			t.Errorf("%q arrived", p)
		}
	}
	if got[17] != "cell 20 of a circuit" {
		t.Errorf("last cell %q", got[17])
	}
}
