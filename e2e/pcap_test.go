package e2e

// Reading a tcpdump capture back: TCP payloads per connection and
// direction, in sequence order, and a check that a byte stream is TLS
// records from its first byte to its last (TestLinksAreTLS).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"testing"
)

// flowKey is one direction of one TCP connection.
type flowKey struct {
	src, dst         string // IP addresses
	srcPort, dstPort uint16
}

func (k flowKey) String() string {
	return fmt.Sprintf("%s:%d->%s:%d", k.src, k.srcPort, k.dst, k.dstPort)
}

type segment struct {
	seq  uint32
	data []byte
}

// flow is what a capture holds of one direction of a connection.
type flow struct {
	isn  uint32 // the SYN's sequence number
	syn  bool   // the SYN was captured
	segs []segment
}

// readPcap reads a classic pcap file of Ethernet (tcpdump -i lo) or Linux
// cooked v1/v2 frames (-i any) carrying IPv4 or IPv6 TCP, and returns its
// flows. A last record cut short (tcpdump stopped while writing) is left out.
func readPcap(path string) (map[flowKey]*flow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 {
		return nil, errors.New("pcap: short file header")
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("pcap: magic %x", b[:4])
	}
	link := bo.Uint32(b[20:])
	flows := map[flowKey]*flow{}
	for off := 24; off < len(b); {
		if off+16 > len(b) {
			break // tcpdump stopped mid-record
		}
		incl, orig := int(bo.Uint32(b[off+8:])), int(bo.Uint32(b[off+12:]))
		off += 16
		if off+incl > len(b) {
			break
		}
		if incl != orig {
			return nil, fmt.Errorf("pcap: a frame of %d bytes captured as %d (snap length)", orig, incl)
		}
		if err := addFrame(flows, link, b[off:off+incl]); err != nil {
			return nil, err
		}
		off += incl
	}
	return flows, nil
}

// addFrame adds one frame's TCP segment, if it carries one.
func addFrame(flows map[flowKey]*flow, link uint32, f []byte) error {
	var ethType uint16
	switch link {
	case 1: // Ethernet
		if len(f) < 14 {
			return nil
		}
		ethType, f = binary.BigEndian.Uint16(f[12:]), f[14:]
	case 113: // Linux cooked v1 (-i any)
		if len(f) < 16 {
			return nil
		}
		ethType, f = binary.BigEndian.Uint16(f[14:]), f[16:]
	case 276: // Linux cooked v2 (-i any, newer tcpdump)
		if len(f) < 20 {
			return nil
		}
		ethType, f = binary.BigEndian.Uint16(f), f[20:]
	default:
		return fmt.Errorf("pcap: link type %d", link)
	}
	var k flowKey
	switch ethType {
	case 0x0800:
		if len(f) < 20 || f[9] != 6 {
			return nil
		}
		ihl, total := int(f[0]&0x0f)*4, int(binary.BigEndian.Uint16(f[2:]))
		if total > len(f) || ihl > total {
			return errors.New("pcap: bad IPv4 header")
		}
		k.src, k.dst = ip(f[12:16]), ip(f[16:20])
		f = f[ihl:total]
	case 0x86dd:
		if len(f) < 40 || f[6] != 6 { // no extension headers on loopback TCP
			return nil
		}
		plen := int(binary.BigEndian.Uint16(f[4:]))
		if 40+plen > len(f) {
			return errors.New("pcap: bad IPv6 header")
		}
		k.src, k.dst = ip(f[8:24]), ip(f[24:40])
		f = f[40 : 40+plen]
	default:
		return nil
	}
	if len(f) < 20 {
		return errors.New("pcap: short TCP header")
	}
	k.srcPort, k.dstPort = binary.BigEndian.Uint16(f), binary.BigEndian.Uint16(f[2:])
	seq, doff, flags := binary.BigEndian.Uint32(f[4:]), int(f[12]>>4)*4, f[13]
	if doff < 20 || doff > len(f) {
		return errors.New("pcap: bad TCP header")
	}
	fl := flows[k]
	if fl == nil {
		fl = &flow{}
		flows[k] = fl
	}
	if flags&0x02 != 0 { // SYN
		fl.isn, fl.syn = seq, true
	}
	if data := f[doff:]; len(data) > 0 {
		fl.segs = append(fl.segs, segment{seq: seq, data: append([]byte(nil), data...)})
	}
	return nil
}

func ip(b []byte) string {
	if len(b) == 4 {
		return fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], b[3])
	}
	return fmt.Sprintf("%x", b)
}

// stream reassembles the flow's bytes from its first after the SYN. A
// gap (a segment the capture missed) is an error, returned with the bytes
// before it: a check of those would not see every byte. Duplicates (a
// bridge capture sees each packet once per port) and retransmissions are
// merged.
func (fl *flow) stream() ([]byte, error) {
	if !fl.syn && len(fl.segs) == 0 {
		// No connection, no bytes: a reset from a port nobody listens
		// on any more (a relay that dials one stopped meanwhile).
		return nil, nil
	}
	if !fl.syn {
		return nil, errors.New("the capture missed the connection's SYN")
	}
	segs := append([]segment(nil), fl.segs...)
	next := fl.isn + 1
	off := func(s segment) uint32 { return s.seq - next } // wraps correctly
	sort.Slice(segs, func(i, j int) bool { return off(segs[i]) < off(segs[j]) })
	var out []byte
	for _, s := range segs {
		o := int(off(s))
		switch {
		case o > len(out):
			return out, fmt.Errorf("a gap of %d bytes at byte %d (the capture dropped a packet)", o-len(out), len(out))
		case o+len(s.data) <= len(out):
			continue // a retransmission
		}
		out = append(out, s.data[len(out)-o:]...)
	}
	return out, nil
}

// TLS record content types (RFC 8446 §5.1).
const (
	tlsChangeCipherSpec = 20
	tlsAlert            = 21
	tlsHandshake        = 22
	tlsApplicationData  = 23
	tlsRecordHeader     = 5
	tlsMaxRecord        = 1<<14 + 256 // TLSCiphertext.length bound
)

// checkTLSRecords checks that s is TLS 1.3 records end to end: each
// header has a known content type and legacy version 0x0303 (0x0301 is
// allowed in the first record if it is a handshake, as a ClientHello may
// carry it), a length
// within bounds, and the last record ends with the stream (a stream cut
// off by the capture's end may end inside one, and when cut is set, inside
// a header too: a capture stopped while the link was busy). It returns the
// number of records.
func checkTLSRecords(s []byte, cut bool) (int, error) {
	n := 0
	for len(s) > 0 {
		if len(s) < tlsRecordHeader && cut {
			if s[0] < tlsChangeCipherSpec || s[0] > tlsApplicationData || len(s) >= 3 && s[1] != 3 {
				return n, fmt.Errorf("record %d: a cut header % x", n, s)
			}
			break
		}
		if len(s) < tlsRecordHeader {
			return n, fmt.Errorf("record %d: %d bytes, not a whole header", n, len(s))
		}
		typ, vers, length := s[0], binary.BigEndian.Uint16(s[1:]), int(binary.BigEndian.Uint16(s[3:]))
		if typ < tlsChangeCipherSpec || typ > tlsApplicationData {
			return n, fmt.Errorf("record %d: content type %d (bytes % x)", n, typ, s[:tlsRecordHeader])
		}
		if vers != 0x0303 && !(n == 0 && typ == tlsHandshake && vers == 0x0301) {
			return n, fmt.Errorf("record %d: version %#04x", n, vers)
		}
		if length == 0 || length > tlsMaxRecord {
			return n, fmt.Errorf("record %d: length %d", n, length)
		}
		if n > 0 && typ == tlsHandshake && vers != 0x0303 {
			return n, fmt.Errorf("record %d: handshake record with version %#04x", n, vers)
		}
		n++
		s = s[min(len(s), tlsRecordHeader+length):]
	}
	return n, nil
}

// TestCheckTLSRecords: the checker accepts TLS records and refuses a
// plain onion link (its preface and cells), so that TestLinksAreTLS would
// fail on plain links.
func TestCheckTLSRecords(t *testing.T) {
	rec := func(typ byte, vers uint16, n int) []byte {
		h := []byte{typ, byte(vers >> 8), byte(vers), byte(n >> 8), byte(n)}
		return append(h, bytes.Repeat([]byte{0xab}, n)...)
	}
	good := bytes.Join([][]byte{rec(tlsHandshake, 0x0301, 200), rec(tlsChangeCipherSpec, 0x0303, 1),
		rec(tlsApplicationData, 0x0303, 16401), rec(tlsAlert, 0x0303, 19)}, nil)
	if n, err := checkTLSRecords(good, false); err != nil || n != 4 {
		t.Errorf("TLS records: %d, %v", n, err)
	}
	for name, s := range map[string][]byte{
		"plain link":               append([]byte("ONION/1\n"), 0, 0, 0, 1, 1, 0, 4, 1, 2, 3, 4),
		"a later 0x0301 record":    append(rec(tlsHandshake, 0x0303, 10), rec(tlsApplicationData, 0x0301, 10)...),
		"an oversized record":      rec(tlsApplicationData, 0x0303, tlsMaxRecord+1),
		"garbage after a record":   append(rec(tlsApplicationData, 0x0303, 10), 'G', 'E', 'T', ' '),
		"an unknown content type":  rec(24, 0x0303, 10),
		"a TLS 1.0 data record":    rec(tlsApplicationData, 0x0301, 1),
		"a short trailing header":  append(rec(tlsApplicationData, 0x0303, 10), 23, 3),
		"an empty record (length)": rec(tlsApplicationData, 0x0303, 0),
	} {
		if _, err := checkTLSRecords(s, false); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A capture stopped while a link was busy: cut anywhere, even in a
	// header, but what is there must still look like TLS.
	for _, s := range [][]byte{good[:len(good)-3], append(bytes.Clone(good), 23, 3), append(bytes.Clone(good), 22)} {
		if _, err := checkTLSRecords(s, true); err != nil {
			t.Errorf("a cut stream (%d bytes): %v", len(s), err)
		}
	}
	for _, tail := range [][]byte{[]byte("ON"), {23, 4, 1}} {
		if _, err := checkTLSRecords(append(bytes.Clone(good), tail...), true); err == nil {
			t.Errorf("a cut stream ending % x: accepted", tail)
		}
	}
}

// TestFlowStreamWithoutSYN: a direction the capture saw no SYN for is an
// error when it carried bytes (they could not all be checked), and
// nothing to check when it did not (a reset from a closed port: a relay
// dialing one that stopped during the test's shutdown).
func TestFlowStreamWithoutSYN(t *testing.T) {
	if s, err := (&flow{}).stream(); err != nil || s != nil {
		t.Errorf("no SYN, no bytes: %q, %v; want nothing, no error", s, err)
	}
	fl := &flow{segs: []segment{{seq: 1, data: []byte("x")}}}
	if _, err := fl.stream(); err == nil {
		t.Error("no SYN but bytes: no error")
	}
}
