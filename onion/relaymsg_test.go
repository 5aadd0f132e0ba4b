package onion_test

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"onion/onion"
)

type relayMsgVectors struct {
	Format    string `json:"format"`
	RelayMsgs []struct {
		Name   string   `json:"name"`
		Cmd    uint8    `json:"cmd"`
		Stream uint16   `json:"stream"`
		Body   hexBytes `json:"body"`
		Wire   hexBytes `json:"wire"`
	} `json:"relay_msgs"`
	Extends []struct {
		Name    string   `json:"name"`
		Create  hexBytes `json:"create"`
		Address string   `json:"address"`
		Wire    hexBytes `json:"wire"`
	} `json:"extends"`
	Sendme []struct {
		N    uint32   `json:"n"`
		Wire hexBytes `json:"wire"`
	} `json:"sendme"`
}

func loadRelayMsgVectors(tb testing.TB) relayMsgVectors {
	var v relayMsgVectors
	readVectors(tb, "relaymsg.json", &v)
	return v
}

func TestRelayMsgVectors(t *testing.T) {
	for _, v := range loadRelayMsgVectors(t).RelayMsgs {
		t.Run(v.Name, func(t *testing.T) {
			m := onion.RelayMsg{Cmd: onion.RelayCmd(v.Cmd), Stream: v.Stream, Body: v.Body}
			got, err := m.MarshalBinary()
			if err != nil || !bytes.Equal(got, v.Wire) {
				t.Fatalf("MarshalBinary = %x, %v; want %x", got, err, v.Wire)
			}
			got, err = m.AppendBinary([]byte{0xaa})
			if err != nil || !bytes.Equal(got, append([]byte{0xaa}, v.Wire...)) {
				t.Fatalf("AppendBinary = %x, %v", got, err)
			}
			var d onion.RelayMsg
			if err := d.UnmarshalBinary(v.Wire); err != nil {
				t.Fatal(err)
			}
			if d.Cmd != m.Cmd || d.Stream != m.Stream || !bytes.Equal(d.Body, m.Body) {
				t.Fatalf("UnmarshalBinary = %+v, want %+v", d, m)
			}
			for n := 0; n < onion.RelayHeaderLen && n < len(v.Wire); n++ {
				if err := d.UnmarshalBinary(v.Wire[:n]); !errors.Is(err, onion.ErrBadMessage) {
					t.Errorf("UnmarshalBinary of %d-byte prefix: %v, want ErrBadMessage", n, err)
				}
			}
		})
	}
}

func TestRelayMsgBounds(t *testing.T) {
	for _, n := range []int{0, 1, onion.MaxData} {
		m := onion.RelayMsg{Cmd: onion.RelayData, Stream: 0xffff, Body: seqBytes(0, n)}
		b, err := m.MarshalBinary()
		if err != nil || len(b) != onion.RelayHeaderLen+n {
			t.Fatalf("%d-byte body: MarshalBinary = %d bytes, %v", n, len(b), err)
		}
		var d onion.RelayMsg
		if err := d.UnmarshalBinary(b); err != nil || !bytes.Equal(d.Body, m.Body) {
			t.Fatalf("%d-byte body: UnmarshalBinary: %v", n, err)
		}
	}
	big := onion.RelayMsg{Cmd: onion.RelayData, Body: make([]byte, onion.MaxData+1)}
	if b, err := big.MarshalBinary(); !errors.Is(err, onion.ErrBadMessage) || b != nil {
		t.Errorf("MarshalBinary(MaxData+1 body) = %d bytes, %v; want ErrBadMessage", len(b), err)
	}
	if b, err := big.AppendBinary([]byte{1}); !errors.Is(err, onion.ErrBadMessage) || b != nil {
		t.Errorf("AppendBinary(MaxData+1 body) = %d bytes, %v; want ErrBadMessage", len(b), err)
	}
	for _, n := range []int{0, 1, 2, onion.MaxMessage + 1, 2 * onion.MaxMessage} {
		var d onion.RelayMsg
		if err := d.UnmarshalBinary(make([]byte, n)); !errors.Is(err, onion.ErrBadMessage) {
			t.Errorf("UnmarshalBinary(%d bytes) = %v, want ErrBadMessage", n, err)
		}
	}
	var d onion.RelayMsg
	if err := d.UnmarshalBinary(make([]byte, onion.MaxMessage)); err != nil || len(d.Body) != onion.MaxBody {
		t.Errorf("UnmarshalBinary(MaxMessage bytes) = %d-byte body, %v", len(d.Body), err)
	}
}

// TestRelayMsgBodyAliases documents that UnmarshalBinary does not copy.
func TestRelayMsgBodyAliases(t *testing.T) {
	b := []byte{byte(onion.RelayData), 0, 1, 'x'}
	var m onion.RelayMsg
	if err := m.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	b[3] = 'y'
	if m.Body[0] != 'y' {
		t.Fatal("Body does not alias the input")
	}
}

func TestExtendVectors(t *testing.T) {
	for _, v := range loadRelayMsgVectors(t).Extends {
		t.Run(v.Name, func(t *testing.T) {
			e := onion.Extend{Create: v.Create, Address: v.Address}
			got, err := e.MarshalBinary()
			if err != nil || !bytes.Equal(got, v.Wire) {
				t.Fatalf("MarshalBinary = %x, %v; want %x", got, err, v.Wire)
			}
			var d onion.Extend
			if err := d.UnmarshalBinary(v.Wire); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(d.Create, v.Create) || d.Address != v.Address {
				t.Fatalf("UnmarshalBinary = %x %q", d.Create, d.Address)
			}
			for n := 0; n <= onion.CreateLen; n++ {
				if err := d.UnmarshalBinary(v.Wire[:n]); !errors.Is(err, onion.ErrBadMessage) {
					t.Fatalf("UnmarshalBinary of %d-byte prefix: %v, want ErrBadMessage", n, err)
				}
			}
		})
	}
}

// TestExtendRoundTripFromHandshake: a real CREATE travels in EXTEND intact.
func TestExtendRoundTripFromHandshake(t *testing.T) {
	k := testRelay(t)
	_, create, err := onion.NewClientHandshake(nil, k.ID, k.OnionKey.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	b, err := onion.Extend{Create: create, Address: "[2001:db8::7]:9001"}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var e onion.Extend
	if err := e.UnmarshalBinary(b); err != nil || !bytes.Equal(e.Create, create) || e.Address != "[2001:db8::7]:9001" {
		t.Fatalf("UnmarshalBinary = %+v, %v", e, err)
	}
	if _, _, err := onion.ServerHandshake(nil, k, e.Create); err != nil {
		t.Fatalf("CREATE from EXTEND: %v", err)
	}
}

func TestExtendRejects(t *testing.T) {
	create := seqBytes(0, onion.CreateLen)
	for _, e := range []onion.Extend{
		{Create: create[:onion.CreateLen-1], Address: "relay:1"},
		{Create: append(append([]byte{}, create...), 0), Address: "relay:1"},
		{Create: nil, Address: "relay:1"},
		{Create: create, Address: ""},
		{Create: create, Address: "relay"},
		{Create: create, Address: "relay:0"},
		{Create: create, Address: "re lay:1"},
	} {
		if b, err := e.MarshalBinary(); !errors.Is(err, onion.ErrBadMessage) || b != nil {
			t.Errorf("MarshalBinary(%d-byte CREATE, %q) = %x, %v; want ErrBadMessage", len(e.Create), e.Address, b, err)
		}
	}
	for _, addr := range []string{"relay", "relay:0", "relay:65536", ":1", "re\x00lay:1", "relay:1\n"} {
		var e onion.Extend
		if err := e.UnmarshalBinary(append(append([]byte{}, create...), addr...)); !errors.Is(err, onion.ErrBadMessage) {
			t.Errorf("UnmarshalBinary(CREATE | %q) = %v, want ErrBadMessage", addr, err)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	for _, c := range []struct {
		addr string
		host string
		port uint16
		ok   bool
	}{
		{"example.com:443", "example.com", 443, true},
		{"a:1", "a", 1, true},
		{"localhost:65535", "localhost", 65535, true},
		{"some-name.onion:80", "some-name.onion", 80, true},
		{"127.0.0.1:9001", "127.0.0.1", 9001, true},
		{"[::1]:443", "::1", 443, true},
		{"[2001:db8::1]:8080", "2001:db8::1", 8080, true},
		{"[::ffff:10.0.0.1]:22", "::ffff:10.0.0.1", 22, true},
		{strings.Repeat("a", onion.MaxHostLen) + ":80", strings.Repeat("a", onion.MaxHostLen), 80, true},

		{"example.com:0", "", 0, false},
		{"example.com:00", "", 0, false},
		{"example.com:0080", "", 0, false},
		{"example.com:" + strings.Repeat("0", 70000) + "1", "", 0, false},
		{"example.com:65536", "", 0, false},
		{"example.com:99999999999999999999", "", 0, false},
		{"example.com:-1", "", 0, false},
		{"example.com:+80", "", 0, false},
		{"example.com:http", "", 0, false},
		{"example.com: 80", "", 0, false},
		{"example.com:80 ", "", 0, false},
		{"example.com:", "", 0, false},
		{"example.com", "", 0, false},
		{"", "", 0, false},
		{":80", "", 0, false},
		{"[]:80", "", 0, false},
		{"::1:443", "", 0, false},
		{"[::1]", "", 0, false},
		{"[::1]443", "", 0, false},
		{strings.Repeat("a", onion.MaxHostLen+1) + ":80", "", 0, false},
		{strings.Repeat("a", 4096) + ":80", "", 0, false},
		{"exa mple.com:80", "", 0, false},
		{" example.com:80", "", 0, false},
		{"\texample.com:80", "", 0, false},
		{"example.com\x00:80", "", 0, false},
		{"example.com\r\n:80", "", 0, false},
		{"exa\x7fmple.com:80", "", 0, false},
		{"ex\xc3\xa9mple.com:80", "", 0, false},
		{"\xff:80", "", 0, false},
	} {
		host, port, err := onion.SplitHostPort(c.addr)
		if !c.ok {
			if !errors.Is(err, onion.ErrBadMessage) {
				t.Errorf("SplitHostPort(%q) = %q, %d, %v; want ErrBadMessage", short(c.addr), short(host), port, err)
			}
			continue
		}
		if err != nil || host != c.host || port != c.port {
			t.Errorf("SplitHostPort(%q) = %q, %d, %v; want %q, %d", short(c.addr), short(host), port, err, short(c.host), c.port)
		}
	}
}

// short keeps failure messages readable when a test input is kilobytes long.
func short(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:40] + "..." + s[len(s)-20:]
}

func TestSendmeBody(t *testing.T) {
	for _, v := range loadRelayMsgVectors(t).Sendme {
		if got := onion.Uint32Body(v.N); !bytes.Equal(got, v.Wire) {
			t.Errorf("Uint32Body(%d) = %x, want %x", v.N, got, v.Wire)
		}
		if n, err := onion.ParseUint32Body(v.Wire); err != nil || n != v.N {
			t.Errorf("ParseUint32Body(%x) = %d, %v; want %d", v.Wire, n, err, v.N)
		}
	}
	for _, n := range []int{0, 1, 3, 5, 8} {
		if _, err := onion.ParseUint32Body(make([]byte, n)); !errors.Is(err, onion.ErrBadMessage) {
			t.Errorf("ParseUint32Body(%d bytes) = %v, want ErrBadMessage", n, err)
		}
	}
	if onion.SendmeThreshold <= 0 || onion.SendmeThreshold > onion.StreamWindow {
		t.Errorf("SendmeThreshold %d outside (0, StreamWindow=%d]", onion.SendmeThreshold, onion.StreamWindow)
	}
}

// TestMaxDataFitsACell: a full DATA message in three layers fits one cell,
// which §5.4 promises.
func TestMaxDataFitsACell(t *testing.T) {
	if n := onion.SealedLen(onion.SealedLen(onion.SealedLen(onion.MaxMessage))); n > onion.MaxCellPayload {
		t.Fatalf("three layers of a full DATA message are %d bytes, over MaxCellPayload %d", n, onion.MaxCellPayload)
	}
}

// FuzzRelayMsg: UnmarshalBinary never panics, and what it accepts
// re-encodes to the same bytes.
func FuzzRelayMsg(f *testing.F) {
	for _, v := range loadRelayMsgVectors(f).RelayMsgs {
		f.Add([]byte(v.Wire))
	}
	f.Add([]byte{})
	f.Add([]byte{6, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m onion.RelayMsg
		if err := m.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, onion.ErrBadMessage) {
				t.Fatalf("err = %v, want ErrBadMessage", err)
			}
			return
		}
		got, err := m.MarshalBinary()
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("re-encoded %x, %v; input %x", got, err, b)
		}
	})
}

// FuzzExtend: UnmarshalBinary never panics; what it accepts has a
// CreateLen-byte CREATE and a valid address, and re-encodes to the same bytes.
func FuzzExtend(f *testing.F) {
	for _, v := range loadRelayMsgVectors(f).Extends {
		f.Add([]byte(v.Wire))
	}
	f.Add(seqBytes(0, onion.CreateLen))
	f.Add(append(seqBytes(0, onion.CreateLen), "[::1]"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e onion.Extend
		if err := e.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, onion.ErrBadMessage) {
				t.Fatalf("err = %v, want ErrBadMessage", err)
			}
			return
		}
		if len(e.Create) != onion.CreateLen {
			t.Fatalf("accepted a %d-byte CREATE", len(e.Create))
		}
		if _, _, err := onion.SplitHostPort(e.Address); err != nil {
			t.Fatalf("accepted address %q that SplitHostPort rejects: %v", e.Address, err)
		}
		got, err := e.MarshalBinary()
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("re-encoded %x, %v; input %x", got, err, b)
		}
	})
}

// FuzzSplitHostPort: SplitHostPort never panics; what it accepts has a
// printable-ASCII host of 1-MaxHostLen bytes and a nonzero port written
// without leading zeros (so the whole address is short: it goes into a
// descriptor's signed bytes behind a 16-bit length), and the pair survives
// net.JoinHostPort and SplitHostPort again unchanged, so the exit dials what
// the client meant.
func FuzzSplitHostPort(f *testing.F) {
	for _, s := range []string{
		"example.com:443", "[::1]:443", "127.0.0.1:9001", "host:0", "host:65536",
		":80", "[]:80", "a b:80", "[fe80::1%eth0]:80", strings.Repeat("a", 256) + ":1", "host:0080",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		host, port, err := onion.SplitHostPort(addr)
		if err != nil {
			if !errors.Is(err, onion.ErrBadMessage) {
				t.Fatalf("err = %v, want ErrBadMessage", err)
			}
			return
		}
		if host == "" || len(host) > onion.MaxHostLen || port == 0 {
			t.Fatalf("SplitHostPort(%q) accepted host %q, port %d", addr, host, port)
		}
		if !strings.HasSuffix(addr, ":"+strconv.Itoa(int(port))) || len(addr) > len("[]:65535")+onion.MaxHostLen {
			t.Fatalf("SplitHostPort accepted a non-canonical port or overlong address %q", addr)
		}
		for i := 0; i < len(host); i++ {
			if host[i] <= ' ' || host[i] >= 0x7f {
				t.Fatalf("SplitHostPort(%q) accepted host byte %#x", addr, host[i])
			}
		}
		joined := net.JoinHostPort(host, strconv.Itoa(int(port)))
		h2, p2, err := onion.SplitHostPort(joined)
		if err != nil || h2 != host || p2 != port {
			t.Fatalf("SplitHostPort(%q) = %q, %d but JoinHostPort gives %q -> %q, %d, %v", addr, host, port, joined, h2, p2, err)
		}
	})
}
