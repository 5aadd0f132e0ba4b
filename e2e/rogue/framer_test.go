package main

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"onion/onion"
)

// linkStream is a link's written bytes: the preface, then cells, among
// them an empty payload and the largest one.
func linkStream() (stream []byte, cells [][]byte) {
	for _, c := range []onion.Cell{
		{CircID: 1, Cmd: onion.CmdCreate, Payload: bytes.Repeat([]byte{1}, 84)},
		{CircID: 1, Cmd: onion.CmdRelay, Payload: bytes.Repeat([]byte{2}, 300)},
		{CircID: 7, Cmd: onion.CmdRelay},
		{CircID: 1, Cmd: onion.CmdDestroy, Payload: []byte{byte(onion.DestroyRequested)}},
		{CircID: 1 << 31, Cmd: onion.CmdRelay, Payload: bytes.Repeat([]byte{3}, onion.MaxCellPayload)},
		{CircID: 2, Cmd: onion.CmdRelay, Payload: []byte("short")},
	} {
		cells = append(cells, onion.AppendCell(nil, c))
	}
	return append([]byte(onion.LinkPreface), bytes.Join(cells, nil)...), cells
}

// feedAll feeds the chunks to a new framer and returns the preface bytes
// and cells it gave back, and the bytes it still holds.
func feedAll(chunks [][]byte) (preface []byte, cells [][]byte, held int) {
	f := newFramer()
	for _, c := range chunks {
		p, cs := f.feed(c)
		preface = append(preface, p...)
		cells = append(cells, cs...)
	}
	return preface, cells, len(f.partial)
}

func TestFramerSplitsAndCombines(t *testing.T) {
	stream, want := linkStream()
	split := func(sizes func(i int) int) [][]byte {
		var chunks [][]byte
		for rest, i := stream, 0; len(rest) > 0; i++ {
			n := min(max(sizes(i), 1), len(rest))
			chunks, rest = append(chunks, rest[:n]), rest[n:]
		}
		return chunks
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// As a link writes: the preface alone, then each header and payload.
	asLink := [][]byte{[]byte(onion.LinkPreface)}
	for _, c := range want {
		asLink = append(asLink, c[:onion.CellHeaderLen])
		if len(c) > onion.CellHeaderLen {
			asLink = append(asLink, c[onion.CellHeaderLen:])
		}
	}
	for name, chunks := range map[string][][]byte{
		"one write":            {stream},
		"byte by byte":         split(func(int) int { return 1 }),
		"as a link writes":     asLink,
		"preface split":        {stream[:3], stream[3:]},
		"preface and a cell":   {stream[:len(onion.LinkPreface)+5], stream[len(onion.LinkPreface)+5:]},
		"random sizes":         split(func(int) int { return rng.IntN(700) }),
		"small random sizes":   split(func(int) int { return rng.IntN(9) }),
		"header across writes": {stream[:len(onion.LinkPreface)+len(want[0])+3], stream[len(onion.LinkPreface)+len(want[0])+3:]},
	} {
		t.Run(name, func(t *testing.T) {
			preface, cells, held := feedAll(chunks)
			if string(preface) != onion.LinkPreface {
				t.Errorf("preface %q", preface)
			}
			if !slices.EqualFunc(cells, want, bytes.Equal) {
				t.Errorf("got %d cells, want %d, or different bytes", len(cells), len(want))
			}
			if held != 0 {
				t.Errorf("%d bytes still held", held)
			}
		})
	}
}

// TestFramerWaitsForWholeCell: no proper prefix of a cell comes out as one.
func TestFramerWaitsForWholeCell(t *testing.T) {
	stream, want := linkStream()
	cut := len(stream) - len(want[len(want)-1])
	for i := cut; i < len(stream); i++ {
		_, cells, held := feedAll([][]byte{stream[:i]})
		if len(cells) != len(want)-1 || held != i-cut {
			t.Fatalf("cut at %d: %d cells and %d bytes held, want %d and %d", i, len(cells), held, len(want)-1, i-cut)
		}
	}
}
