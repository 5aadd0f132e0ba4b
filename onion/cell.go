package onion

// Link framing, PROTOCOL.md §2.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Framing sizes.
const (
	// LinkPreface is what each side writes first on a new link, so that a
	// port scanner, an HTTP client or a wrong version is told apart from a
	// broken cell.
	LinkPreface = "ONION/1\n"

	CellHeaderLen  = 7     // CircID 4 | Command 1 | Length 2
	MaxCellPayload = 65535 // the Length field's range; also the bound on any read
)

// Errors returned by the framing code.
var (
	ErrBadPreface = errors.New("onion: not an onion link (bad preface)")
	ErrShortCell  = errors.New("onion: short cell")
)

// Cell is one framed unit on a link. Payload's meaning depends on Cmd.
type Cell struct {
	CircID  uint32
	Cmd     Command
	Payload []byte
}

// AppendCell appends c's wire form to b. It panics if the payload is longer
// than MaxCellPayload: that is a programming error, never peer input.
func AppendCell(b []byte, c Cell) []byte {
	return append(AppendCellHeader(b, c), c.Payload...)
}

// AppendCellHeader appends c's 7-byte header (CircID | Command | Length), for
// a writer that sends the payload from its own buffer. It panics on a
// payload longer than MaxCellPayload.
func AppendCellHeader(b []byte, c Cell) []byte {
	if len(c.Payload) > MaxCellPayload {
		panic(fmt.Sprintf("onion: cell payload of %d bytes", len(c.Payload)))
	}
	b = binary.BigEndian.AppendUint32(b, c.CircID)
	b = append(b, byte(c.Cmd))
	return binary.BigEndian.AppendUint16(b, uint16(len(c.Payload)))
}

// ReadCell reads one cell from r. The payload is read into buf when it fits
// and into a new slice otherwise; the length field bounds the read, so a peer
// can make it allocate at most MaxCellPayload bytes.
func ReadCell(r io.Reader, buf []byte) (Cell, error) {
	return readCell(r, func(n int) []byte {
		if cap(buf) < n {
			return make([]byte, n)
		}
		return buf[:n]
	})
}

// ReadCellPooled is ReadCell with a large payload (a data cell) read into a
// pooled buffer, which its owner may hand back with Recycle; a small one
// gets a buffer of its own size, so a small payload that is kept (a
// control message, say) does not pin a pooled buffer.
func ReadCellPooled(r io.Reader) (Cell, error) {
	return readCell(r, func(n int) []byte {
		if n >= PoolBufCap/2 {
			return getBuf(n)
		}
		return make([]byte, n)
	})
}

func readCell(r io.Reader, alloc func(n int) []byte) (Cell, error) {
	var hdr [CellHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Cell{}, err
	}
	buf := alloc(int(binary.BigEndian.Uint16(hdr[5:7])))
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Cell{}, fmt.Errorf("cell payload: %w", err)
	}
	return Cell{
		CircID:  binary.BigEndian.Uint32(hdr[0:4]),
		Cmd:     Command(hdr[4]),
		Payload: buf,
	}, nil
}

// ParseCell decodes exactly one cell from b, rejecting short input and
// trailing bytes. It is ReadCell for code that already holds the bytes.
func ParseCell(b []byte) (Cell, error) {
	if len(b) < CellHeaderLen {
		return Cell{}, ErrShortCell
	}
	n := int(binary.BigEndian.Uint16(b[5:7]))
	if len(b) != CellHeaderLen+n {
		return Cell{}, fmt.Errorf("%w: length %d, have %d bytes", ErrShortCell, n, len(b)-CellHeaderLen)
	}
	return Cell{
		CircID:  binary.BigEndian.Uint32(b[0:4]),
		Cmd:     Command(b[4]),
		Payload: b[CellHeaderLen:],
	}, nil
}

// ReadPreface reads and checks the peer's LinkPreface.
func ReadPreface(r io.Reader) error {
	var got [len(LinkPreface)]byte
	if _, err := io.ReadFull(r, got[:]); err != nil {
		return fmt.Errorf("read preface: %w", err)
	}
	if string(got[:]) != LinkPreface {
		return fmt.Errorf("%w: got %q", ErrBadPreface, got[:])
	}
	return nil
}
