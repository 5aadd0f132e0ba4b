package main

// Following a link's cells in the bytes a relay writes (PROTOCOL.md §2: the
// preface, then cells of CircID 4 | Command 1 | Length 2 | payload).

import (
	"encoding/binary"

	"onion/onion"
)

// framer splits one direction of a link's byte stream into its preface and
// whole cells, however the writes split or combine them (a link writes a
// batch of cells as header, payload, header, payload...). It holds at most
// one cell begun and not yet complete.
type framer struct {
	preface int    // preface bytes still to come
	partial []byte // the cell begun so far
}

func newFramer() *framer { return &framer{preface: len(onion.LinkPreface)} }

// feed takes the bytes of one write. It returns the preface bytes among
// them, to pass on as they are, and each cell they complete, in order, each
// in a slice of its own.
func (f *framer) feed(p []byte) (preface []byte, cells [][]byte) {
	if f.preface > 0 {
		n := min(f.preface, len(p))
		preface, p = p[:n], p[n:]
		f.preface -= n
	}
	for len(p) > 0 {
		n := min(f.need(), len(p))
		f.partial = append(f.partial, p[:n]...)
		p = p[n:]
		if len(f.partial) >= onion.CellHeaderLen && f.need() == 0 {
			cells = append(cells, f.partial)
			f.partial = nil
		}
	}
	return preface, cells
}

// need is how many more bytes the cell begun needs: the rest of its header,
// or once the header is whole, the rest of its payload.
func (f *framer) need() int {
	if len(f.partial) < onion.CellHeaderLen {
		return onion.CellHeaderLen - len(f.partial)
	}
	length := int(binary.BigEndian.Uint16(f.partial[5:onion.CellHeaderLen]))
	return onion.CellHeaderLen + length - len(f.partial)
}
