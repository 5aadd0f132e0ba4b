package onion_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"onion/onion"
)

type cellVector struct {
	Name    string   `json:"name"`
	CircID  uint32   `json:"circ_id"`
	Cmd     uint8    `json:"cmd"`
	Payload hexBytes `json:"payload"`
	Wire    hexBytes `json:"wire"`
}

func cellVectors(tb testing.TB) []cellVector {
	var v struct {
		Format string       `json:"format"`
		Cells  []cellVector `json:"cells"`
	}
	readVectors(tb, "cells.json", &v)
	if len(v.Cells) == 0 {
		tb.Fatal("no cell vectors")
	}
	return v.Cells
}

func (v cellVector) cell() onion.Cell {
	return onion.Cell{CircID: v.CircID, Cmd: onion.Command(v.Cmd), Payload: v.Payload}
}

func equalCell(a, b onion.Cell) bool {
	return a.CircID == b.CircID && a.Cmd == b.Cmd && bytes.Equal(a.Payload, b.Payload)
}

// TestCellVectors pins the wire format byte for byte: encoding gives the
// vector, and both decoders give the cell back.
func TestCellVectors(t *testing.T) {
	for _, v := range cellVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			want := v.cell()
			if got := onion.AppendCell(nil, want); !bytes.Equal(got, v.Wire) {
				t.Fatalf("AppendCell = %x, want %x", got, v.Wire)
			}
			prefix := []byte("keep")
			if got := onion.AppendCell(prefix, want); !bytes.Equal(got, append([]byte("keep"), v.Wire...)) {
				t.Fatalf("AppendCell with prefix = %x", got)
			}
			got, err := onion.ParseCell(v.Wire)
			if err != nil || !equalCell(got, want) {
				t.Fatalf("ParseCell = %+v, %v; want %+v", got, err, want)
			}
			got, err = onion.ReadCell(bytes.NewReader(v.Wire), nil)
			if err != nil || !equalCell(got, want) {
				t.Fatalf("ReadCell = %+v, %v; want %+v", got, err, want)
			}
		})
	}
}

// TestCellRoundTrip covers shapes the vectors do not: the largest payload,
// and ReadCell over a reader that hands out one byte at a time.
func TestCellRoundTrip(t *testing.T) {
	for _, c := range []onion.Cell{
		{CircID: 1, Cmd: onion.CmdRelay, Payload: nil},
		{CircID: 1, Cmd: onion.CmdRelay, Payload: []byte{0}},
		{CircID: 0xdeadbeef, Cmd: onion.CmdCreate, Payload: seqBytes(0, onion.CreateLen)},
		{CircID: 2, Cmd: onion.CmdRelay, Payload: bytes.Repeat([]byte{0x5a}, 256)},
		{CircID: 3, Cmd: onion.CmdRelay, Payload: bytes.Repeat([]byte{0xa5}, onion.MaxCellPayload)},
	} {
		wire := onion.AppendCell(nil, c)
		if len(wire) != onion.CellHeaderLen+len(c.Payload) {
			t.Fatalf("len(wire) = %d for %d-byte payload", len(wire), len(c.Payload))
		}
		got, err := onion.ParseCell(wire)
		if err != nil || !equalCell(got, c) {
			t.Fatalf("ParseCell(%d-byte payload): %v", len(c.Payload), err)
		}
		got, err = onion.ReadCell(iotest.OneByteReader(bytes.NewReader(wire)), make([]byte, 0, 16))
		if err != nil || !equalCell(got, c) {
			t.Fatalf("ReadCell(%d-byte payload): %v", len(c.Payload), err)
		}
	}
}

func TestAppendCellPanicsOnOversizedPayload(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("AppendCell accepted a payload of MaxCellPayload+1 bytes")
		}
	}()
	onion.AppendCell(nil, onion.Cell{Payload: make([]byte, onion.MaxCellPayload+1)})
}

// TestParseCellRejectsEveryProperPrefix: no prefix of a valid encoding
// parses, so a decoder can never mistake a partial cell for a whole one.
func TestParseCellRejectsEveryProperPrefix(t *testing.T) {
	for _, v := range cellVectors(t) {
		for n := 0; n < len(v.Wire); n++ {
			if _, err := onion.ParseCell(v.Wire[:n]); !errors.Is(err, onion.ErrShortCell) {
				t.Errorf("%s: ParseCell of %d/%d bytes: err = %v, want ErrShortCell", v.Name, n, len(v.Wire), err)
			}
		}
	}
}

func TestParseCellRejectsTrailingBytes(t *testing.T) {
	for _, v := range cellVectors(t) {
		for _, extra := range [][]byte{{0}, {0xff, 0xff}, v.Wire} {
			b := append(append([]byte{}, v.Wire...), extra...)
			if c, err := onion.ParseCell(b); err == nil {
				t.Errorf("%s: ParseCell with %d trailing bytes = %+v, want error", v.Name, len(extra), c)
			}
		}
	}
}

// TestReadCellStream reads back-to-back cells and then a clean io.EOF, so
// that a link reader can tell a closed link from a cut one.
func TestReadCellStream(t *testing.T) {
	vs := cellVectors(t)
	var wire []byte
	for _, v := range vs {
		wire = append(wire, v.Wire...)
	}
	r := bufio.NewReader(bytes.NewReader(wire))
	buf := make([]byte, 0, 512)
	for _, v := range vs {
		c, err := onion.ReadCell(r, buf)
		if err != nil || !equalCell(c, v.cell()) {
			t.Fatalf("%s: ReadCell = %+v, %v", v.Name, c, err)
		}
	}
	if _, err := onion.ReadCell(r, buf); err != io.EOF {
		t.Fatalf("ReadCell at end of stream: err = %v, want io.EOF", err)
	}
}

func TestReadCellTruncated(t *testing.T) {
	wire := onion.AppendCell(nil, onion.Cell{CircID: 9, Cmd: onion.CmdRelay, Payload: seqBytes(0, 100)})
	for _, n := range []int{1, onion.CellHeaderLen - 1, onion.CellHeaderLen, onion.CellHeaderLen + 1, len(wire) - 1} {
		_, err := onion.ReadCell(bytes.NewReader(wire[:n]), nil)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ReadCell of %d/%d bytes: err = %v, want io.ErrUnexpectedEOF", n, len(wire), err)
		}
	}
	// A read error other than EOF comes through wrapped, not hidden.
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(wire[:onion.CellHeaderLen+3]), iotest.ErrReader(boom))
	if _, err := onion.ReadCell(r, nil); !errors.Is(err, boom) {
		t.Errorf("ReadCell with failing reader: err = %v, want %v", err, boom)
	}
}

// TestReadCellBuffer: the payload lands in buf when it fits (no allocation
// per cell on a busy link) and in a fresh slice when it does not (buf is
// never written past its capacity).
func TestReadCellBuffer(t *testing.T) {
	wire := onion.AppendCell(nil, onion.Cell{CircID: 1, Cmd: onion.CmdRelay, Payload: seqBytes(1, 64)})
	buf := make([]byte, 0, 64)
	c, err := onion.ReadCell(bytes.NewReader(wire), buf)
	if err != nil {
		t.Fatal(err)
	}
	if &c.Payload[0] != &buf[:1][0] {
		t.Error("payload that fits was not read into buf")
	}
	small := make([]byte, 8)
	c, err = onion.ReadCell(bytes.NewReader(wire), small)
	if err != nil || !bytes.Equal(c.Payload, seqBytes(1, 64)) {
		t.Fatalf("ReadCell with small buf = %x, %v", c.Payload, err)
	}
	if !bytes.Equal(small, make([]byte, 8)) {
		t.Errorf("small buf was written: %x", small)
	}
}

func TestReadPreface(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		wantErr error // nil for success
	}{
		{"preface", onion.LinkPreface, nil},
		{"preface then a cell", onion.LinkPreface + "\x00\x00\x00\x01\x03\x00\x00", nil},
		{"HTTP request", "GET / HTTP/1.1\r\nHost: relay\r\n\r\n", onion.ErrBadPreface},
		{"TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", onion.ErrBadPreface},
		{"other version", "ONION/2\n", onion.ErrBadPreface},
		{"no newline", "ONION/1 ", onion.ErrBadPreface},
		{"short", "ONION/", io.ErrUnexpectedEOF},
		{"empty", "", io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := onion.ReadPreface(strings.NewReader(tc.in))
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("ReadPreface(%q) = %v", tc.in, err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ReadPreface(%q) = %v, want %v", tc.in, err, tc.wantErr)
			}
		})
	}
}

// TestReadPrefaceConsumesExactly: after the preface the next byte read is
// the first byte of the first cell.
func TestReadPrefaceConsumesExactly(t *testing.T) {
	wire := onion.AppendCell([]byte(onion.LinkPreface), onion.Cell{CircID: 5, Cmd: onion.CmdDestroy, Payload: []byte{3}})
	r := bytes.NewReader(wire)
	if err := onion.ReadPreface(r); err != nil {
		t.Fatal(err)
	}
	c, err := onion.ReadCell(r, nil)
	if err != nil || c.CircID != 5 || c.Cmd != onion.CmdDestroy {
		t.Fatalf("cell after preface = %+v, %v", c, err)
	}
}

// FuzzParseCell: ParseCell never panics, and what it accepts re-encodes to
// exactly its input (dnsmessage's FuzzUnpackPack).
func FuzzParseCell(f *testing.F) {
	for _, v := range cellVectors(f) {
		f.Add([]byte(v.Wire))
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := onion.ParseCell(b)
		if err != nil {
			if !errors.Is(err, onion.ErrShortCell) {
				t.Fatalf("ParseCell error %v is not ErrShortCell", err)
			}
			return
		}
		if got := onion.AppendCell(nil, c); !bytes.Equal(got, b) {
			t.Fatalf("re-encoded %x, input %x", got, b)
		}
	})
}

// FuzzReadCell: ReadCell on any stream never panics; it reads cells that
// re-encode to the bytes it consumed and stops with io.EOF exactly at a cell
// boundary and io.ErrUnexpectedEOF anywhere else.
func FuzzReadCell(f *testing.F) {
	var all []byte
	for _, v := range cellVectors(f) {
		f.Add([]byte(v.Wire))
		all = append(all, v.Wire...)
	}
	f.Add(all)
	f.Add(all[:len(all)-1])
	f.Add([]byte{0, 0, 0, 1, 3, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		buf := make([]byte, 0, 32)
		consumed := 0
		for {
			c, err := onion.ReadCell(r, buf)
			if err != nil {
				rest := len(b) - consumed
				switch {
				case rest == 0 && err != io.EOF:
					t.Fatalf("at a cell boundary: err = %v, want io.EOF", err)
				case rest > 0 && !errors.Is(err, io.ErrUnexpectedEOF):
					t.Fatalf("%d bytes into a cell: err = %v, want io.ErrUnexpectedEOF", rest, err)
				}
				return
			}
			enc := onion.AppendCell(nil, c)
			if !bytes.Equal(enc, b[consumed:consumed+len(enc)]) {
				t.Fatalf("cell at %d re-encodes to %x", consumed, enc)
			}
			consumed += len(enc)
		}
	})
}
