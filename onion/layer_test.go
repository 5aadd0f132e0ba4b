package onion_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/fernet/fernet-go"

	"onion/onion"
)

type layerVectors struct {
	Format string   `json:"format"`
	Key    hexBytes `json:"key"`
	Tokens []struct {
		Seq       uint64   `json:"seq"`
		Kind      uint8    `json:"kind"`
		Body      hexBytes `json:"body"`
		Timestamp uint64   `json:"timestamp"`
		IV        hexBytes `json:"iv"`
		Token     hexBytes `json:"token"`
	} `json:"tokens"`
	Invalid []struct {
		Why   string   `json:"why"`
		Token hexBytes `json:"token"`
	} `json:"invalid"`
	Circuit struct {
		Note   string     `json:"note"`
		Keys   []hexBytes `json:"keys"`
		Body   hexBytes   `json:"body"`
		Tokens []hexBytes `json:"tokens"`
	} `json:"circuit"`
}

func loadLayerVectors(tb testing.TB) layerVectors {
	var v layerVectors
	readVectors(tb, "layers.json", &v)
	return v
}

func fernetKey(b []byte) (k fernet.Key) {
	if copy(k[:], b) != len(k) {
		panic("short key")
	}
	return k
}

func testKey(t *testing.T) fernet.Key {
	t.Helper()
	var k fernet.Key
	if err := k.Generate(); err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSeal(t *testing.T, s *onion.Sealer, kind onion.LayerKind, body []byte) []byte {
	t.Helper()
	tok, err := s.Seal(kind, body)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The sizes reach both seal paths (a token with a whole 64-byte block of
// ciphertext is hashed while it is encrypted) and every tail length.
var layerBodySizes = []int{0, 1, 15, 16, 17, 30, 31, 32, 39, 40, 47, 48, 55, 56, 100, 1000, 4095, onion.MaxData + 3}

func TestSealOpenRoundTrip(t *testing.T) {
	k := testKey(t)
	s, o := onion.NewSealer(k), onion.NewOpener(k)
	for i, n := range layerBodySizes {
		for _, kind := range []onion.LayerKind{onion.KindMessage, onion.KindForward} {
			body := seqBytes(byte(i), n)
			tok := mustSeal(t, s, kind, body)
			if len(tok) != onion.SealedLen(n) || len(tok) != onion.TokenLen(onion.LayerHeaderLen+n) {
				t.Fatalf("%d-byte body: token %d bytes, SealedLen %d, TokenLen %d",
					n, len(tok), onion.SealedLen(n), onion.TokenLen(onion.LayerHeaderLen+n))
			}
			gotKind, got, err := o.Open(tok)
			if err != nil || gotKind != kind || !bytes.Equal(got, body) {
				t.Fatalf("%d-byte body: Open = %v, %d bytes, %v", n, gotKind, len(got), err)
			}
		}
	}
}

// TestTokenLen pins the arithmetic against the fernet overhead (57 bytes plus
// PKCS#7 padding of 1-16 bytes).
func TestTokenLen(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{0, 73}, {1, 73}, {15, 73}, {16, 89}, {17, 89}, {31, 89}, {32, 105},
	} {
		if got := onion.TokenLen(c.n); got != c.want {
			t.Errorf("TokenLen(%d) = %d, want %d", c.n, got, c.want)
		}
	}
	if onion.TokenOverhead != 57 || onion.MinTokenLen != 73 || onion.LayerHeaderLen != 9 {
		t.Errorf("TokenOverhead %d, MinTokenLen %d, LayerHeaderLen %d", onion.TokenOverhead, onion.MinTokenLen, onion.LayerHeaderLen)
	}
	if got := onion.SealedLen(7); got != onion.TokenLen(16) {
		t.Errorf("SealedLen(7) = %d, want TokenLen(16) = %d", got, onion.TokenLen(16))
	}
}

// TestTokensAreFernet: every token is a real fernet token. fernet-go, given
// the token in its base64 form, verifies it and returns seq | kind | body;
// its timestamp is zero so it reveals nothing of the sender's clock.
func TestTokensAreFernet(t *testing.T) {
	k := testKey(t)
	s := onion.NewSealer(k)
	keys := []*fernet.Key{&k}
	for i, n := range layerBodySizes {
		body := seqBytes(byte(3*i), n)
		tok := mustSeal(t, s, onion.KindMessage, body)
		b64 := []byte(base64.URLEncoding.EncodeToString(tok))
		want := refLayerPlaintext(uint64(i), byte(onion.KindMessage), body)
		if got := fernet.VerifyAndDecrypt(b64, 0, keys); got == nil || !bytes.Equal(got, want) {
			t.Fatalf("%d-byte body: fernet-go VerifyAndDecrypt = %x, want %x", n, got, want)
		}
		// The timestamp is fixed at zero (PROTOCOL.md §4.1) so it shows no clock.
		if ts := binary.BigEndian.Uint64(tok[1:9]); ts != 0 {
			t.Fatalf("%d-byte body: token timestamp %d, want 0", n, ts)
		}
		if tok[0] != 0x80 {
			t.Fatalf("version byte %#x", tok[0])
		}
	}
}

// TestOpenFernetGoTokens is the other direction: a token made by fernet-go
// itself (base64-decoded to raw) opens.
func TestOpenFernetGoTokens(t *testing.T) {
	k := testKey(t)
	o := onion.NewOpener(k)
	for i, n := range layerBodySizes {
		body := seqBytes(byte(i), n)
		b64, err := fernet.EncryptAndSign(refLayerPlaintext(uint64(i), byte(onion.KindForward), body), &k)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.URLEncoding.DecodeString(string(b64))
		if err != nil {
			t.Fatal(err)
		}
		kind, got, err := o.Open(raw)
		if err != nil || kind != onion.KindForward || !bytes.Equal(got, body) {
			t.Fatalf("%d-byte body: Open(fernet-go token) = %v, %d bytes, %v", n, kind, len(got), err)
		}
	}
}

// TestLayerVectors: the tokens in testdata/layers.json are what the
// reference construction gives, fernet-go accepts them, and Open returns
// their contents; the invalid ones (valid MAC, bad contents) are ErrLayer.
func TestLayerVectors(t *testing.T) {
	v := loadLayerVectors(t)
	k := fernetKey(v.Key)
	o := onion.NewOpener(k)
	for _, tv := range v.Tokens {
		var iv [16]byte
		copy(iv[:], tv.IV)
		pt := refLayerPlaintext(tv.Seq, tv.Kind, tv.Body)
		if ref := refToken(k, 0x80, tv.Timestamp, iv, pt); !bytes.Equal(ref, tv.Token) {
			t.Fatalf("seq %d: reference token %x, vector %x", tv.Seq, ref, tv.Token)
		}
		b64 := []byte(base64.URLEncoding.EncodeToString(tv.Token))
		if got := fernet.VerifyAndDecrypt(b64, 0, []*fernet.Key{&k}); !bytes.Equal(got, pt) {
			t.Fatalf("seq %d: fernet-go = %x, want %x", tv.Seq, got, pt)
		}
		kind, body, err := o.Open(tv.Token)
		if err != nil || kind != onion.LayerKind(tv.Kind) || !bytes.Equal(body, tv.Body) {
			t.Fatalf("seq %d: Open = %v, %x, %v", tv.Seq, kind, body, err)
		}
	}
	for _, bad := range v.Invalid {
		if _, _, err := onion.NewOpener(k).Open(bad.Token); !errors.Is(err, onion.ErrLayer) {
			t.Errorf("%s: Open = %v, want ErrLayer", bad.Why, err)
		}
	}
}

// TestLayerCircuitVector peels the three-layer vector hop by hop.
func TestLayerCircuitVector(t *testing.T) {
	c := loadLayerVectors(t).Circuit
	tok := []byte(c.Tokens[0])
	for hop, key := range c.Keys {
		if !bytes.Equal(tok, c.Tokens[hop]) {
			t.Fatalf("hop %d got token %x, vector has %x", hop+1, tok, c.Tokens[hop])
		}
		kind, body, err := onion.NewOpener(fernetKey(key)).Open(tok)
		if err != nil {
			t.Fatalf("hop %d: %v", hop+1, err)
		}
		want := onion.KindForward
		if hop == len(c.Keys)-1 {
			want = onion.KindMessage
		}
		if kind != want {
			t.Fatalf("hop %d: kind %v, want %v", hop+1, kind, want)
		}
		tok = body
	}
	if !bytes.Equal(tok, c.Body) {
		t.Fatalf("last hop got %x, want %x", tok, c.Body)
	}
}

// TestOpenRejectsEveryBitFlip: a flipped bit anywhere (version, timestamp,
// IV, ciphertext, MAC) is the one opaque ErrLayer, never ErrSequence and
// never a body.
func TestOpenRejectsEveryBitFlip(t *testing.T) {
	k := testKey(t)
	tok := mustSeal(t, onion.NewSealer(k), onion.KindMessage, seqBytes(0, 20))
	v := loadLayerVectors(t)
	vk := fernetKey(v.Key)
	for _, c := range []struct {
		key fernet.Key
		tok []byte
	}{{k, tok}, {vk, v.Tokens[0].Token}, {vk, v.Tokens[2].Token}} {
		for i := 0; i < 8*len(c.tok); i++ {
			kind, body, err := onion.NewOpener(c.key).Open(flipBit(c.tok, i))
			if err != onion.ErrLayer {
				t.Fatalf("bit %d of %d flipped: Open = %v, %x, %v; want ErrLayer", i, 8*len(c.tok), kind, body, err)
			}
		}
	}
}

func TestOpenWrongKey(t *testing.T) {
	hk, _, _, _ := handshake(t, testRelay(t))
	tok := mustSeal(t, onion.NewSealer(hk.Forward), onion.KindMessage, []byte("hello"))
	for name, k := range map[string]fernet.Key{
		"unrelated key":                        testKey(t),
		"other direction of the same hop":      hk.Backward,
		"all-zero key":                         {},
		"forward key with halves swapped":      fernetKey(append(append([]byte{}, hk.Forward[16:]...), hk.Forward[:16]...)),
		"forward key, one signing bit flipped": fernetKey(flipBit(hk.Forward[:], 0)),
	} {
		if _, _, err := onion.NewOpener(k).Open(tok); err != onion.ErrLayer {
			t.Errorf("%s: Open = %v, want ErrLayer", name, err)
		}
	}
	// The right key still opens it, so the failures above are the key's.
	if _, _, err := onion.NewOpener(hk.Forward).Open(tok); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSequence: replayed, reordered and dropped tokens are ErrSequence.
func TestOpenSequence(t *testing.T) {
	k := testKey(t)
	s := onion.NewSealer(k)
	var toks [][]byte
	for i := 0; i < 4; i++ {
		toks = append(toks, mustSeal(t, s, onion.KindMessage, []byte{byte(i)}))
	}
	for _, c := range []struct {
		name  string
		order []int // the last one must fail
	}{
		{"replay of the first", []int{0, 0}},
		{"replay of an older one", []int{0, 1, 2, 1}},
		{"replay of the latest", []int{0, 1, 1}},
		{"reordered: #1 before #0", []int{1}},
		{"dropped #1", []int{0, 2}},
		{"dropped all but the last", []int{3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := onion.NewOpener(k)
			last := len(c.order) - 1
			for _, i := range c.order[:last] {
				if _, body, err := o.Open(toks[i]); err != nil || body[0] != byte(i) {
					t.Fatalf("Open(#%d) = %x, %v", i, body, err)
				}
			}
			_, body, err := o.Open(toks[c.order[last]])
			if !errors.Is(err, onion.ErrSequence) || errors.Is(err, onion.ErrLayer) || body != nil {
				t.Fatalf("Open(#%d) = %x, %v; want ErrSequence", c.order[last], body, err)
			}
		})
	}
	// In order, all four open.
	o := onion.NewOpener(k)
	for i, tok := range toks {
		if _, _, err := o.Open(tok); err != nil {
			t.Fatalf("in order, #%d: %v", i, err)
		}
	}
}

// TestOpenMalformed: garbage of every shape is ErrLayer, never a panic.
func TestOpenMalformed(t *testing.T) {
	k := testKey(t)
	tok := mustSeal(t, onion.NewSealer(k), onion.KindMessage, seqBytes(0, 40))
	withVersion := func(v byte) []byte { b := append([]byte{}, tok...); b[0] = v; return b }
	for _, c := range []struct {
		name string
		tok  []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"version byte only", []byte{0x80}},
		{"header only", tok[:1+8+16]},
		{"one byte short of the minimum", make([]byte, onion.MinTokenLen-1)},
		{"minimum length, zeros", make([]byte, onion.MinTokenLen)},
		{"minimum length, version then zeros", append([]byte{0x80}, make([]byte, onion.MinTokenLen-1)...)},
		{"truncated by one byte", tok[:len(tok)-1]},
		{"truncated by one block", tok[:len(tok)-16]},
		{"truncated by the MAC", tok[:len(tok)-32]},
		{"one byte appended", append(append([]byte{}, tok...), 0)},
		{"one block appended", append(append([]byte{}, tok...), make([]byte, 16)...)},
		{"version 0x00", withVersion(0x00)},
		{"version 0x81", withVersion(0x81)},
		{"version 0xff", withVersion(0xff)},
		{"base64 text instead of raw", []byte(base64.URLEncoding.EncodeToString(tok))},
	} {
		t.Run(c.name, func(t *testing.T) {
			if kind, body, err := onion.NewOpener(k).Open(c.tok); err != onion.ErrLayer {
				t.Fatalf("Open = %v, %x, %v; want ErrLayer", kind, body, err)
			}
		})
	}
}

// TestOpenReturnsOwnBuffer: the body does not alias the token, so a link
// may reuse its read buffer for the next cell.
func TestOpenReturnsOwnBuffer(t *testing.T) {
	k := testKey(t)
	tok := mustSeal(t, onion.NewSealer(k), onion.KindMessage, []byte("payload"))
	_, body, err := onion.NewOpener(k).Open(tok)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tok {
		tok[i] = 0
	}
	if string(body) != "payload" {
		t.Fatalf("body changed with the token: %q", body)
	}
}

// TestSealIsRandomized: sealing the same layer twice under one key gives
// unrelated tokens (fresh IV), so equal cells do not look equal on the wire.
func TestSealIsRandomized(t *testing.T) {
	k := testKey(t)
	a := mustSeal(t, onion.NewSealer(k), onion.KindMessage, []byte("same"))
	b := mustSeal(t, onion.NewSealer(k), onion.KindMessage, []byte("same"))
	if bytes.Equal(a[1+8:], b[1+8:]) {
		t.Fatal("two seals of the same layer are equal")
	}
	if bytes.Equal(a[1+8:1+8+16], b[1+8:1+8+16]) {
		t.Fatal("two seals share an IV")
	}
}

// circuitKeys builds three hops with real handshakes; hops[i] holds relay
// i's side, client[i] the client's side.
func circuitKeys(t *testing.T) (client, hops [3]onion.HopKeys) {
	for i := range hops {
		client[i], hops[i], _, _ = handshake(t, testRelay(t))
	}
	return client, hops
}

// TestNestedLayers is the circuit case: the client wraps a body for hop 3
// in three layers; each hop opens exactly one and passes the next token on;
// the last gets the body. Then the way back: hop 3 seals a message, hops 2
// and 1 each add a KindForward layer, and the client peels all three.
// Several rounds run, so each direction's sequence numbers advance apart.
func TestNestedLayers(t *testing.T) {
	ck, hk := circuitKeys(t)
	var (
		cSeal, hSeal [3]*onion.Sealer
		cOpen, hOpen [3]*onion.Opener
	)
	for i := range 3 {
		cSeal[i], cOpen[i] = onion.NewSealer(ck[i].Forward), onion.NewOpener(ck[i].Backward)
		hSeal[i], hOpen[i] = onion.NewSealer(hk[i].Backward), onion.NewOpener(hk[i].Forward)
	}
	for round, n := range []int{0, 17, 498, onion.MaxMessage} {
		body := seqBytes(byte(round), n)

		// Forward.
		tok := mustSeal(t, cSeal[2], onion.KindMessage, body)
		tok = mustSeal(t, cSeal[1], onion.KindForward, tok)
		tok = mustSeal(t, cSeal[0], onion.KindForward, tok)
		if want := onion.SealedLen(onion.SealedLen(onion.SealedLen(n))); len(tok) != want {
			t.Fatalf("round %d: onion of %d bytes, SealedLen thrice = %d", round, len(tok), want)
		}
		if len(tok) > onion.MaxCellPayload {
			t.Fatalf("round %d: a %d-byte body makes a %d-byte onion, over MaxCellPayload", round, n, len(tok))
		}
		if round == 0 {
			// Peeling in the wrong order fails at once.
			if _, _, err := onion.NewOpener(hk[1].Forward).Open(tok); err != onion.ErrLayer {
				t.Fatalf("hop 2 opened hop 1's layer: %v", err)
			}
		}
		for i := range 3 {
			kind, inner, err := hOpen[i].Open(tok)
			if err != nil {
				t.Fatalf("round %d, hop %d: %v", round, i+1, err)
			}
			want := onion.KindForward
			if i == 2 {
				want = onion.KindMessage
			}
			if kind != want {
				t.Fatalf("round %d, hop %d: kind %v, want %v", round, i+1, kind, want)
			}
			tok = inner
		}
		if !bytes.Equal(tok, body) {
			t.Fatalf("round %d: hop 3 got %d bytes, want the %d-byte body", round, len(tok), n)
		}

		// Backward.
		tok = mustSeal(t, hSeal[2], onion.KindMessage, body)
		tok = mustSeal(t, hSeal[1], onion.KindForward, tok)
		tok = mustSeal(t, hSeal[0], onion.KindForward, tok)
		for i := range 3 {
			kind, inner, err := cOpen[i].Open(tok)
			if err != nil {
				t.Fatalf("round %d, back from hop %d: %v", round, i+1, err)
			}
			if (kind == onion.KindMessage) != (i == 2) {
				t.Fatalf("round %d, back from hop %d: kind %v", round, i+1, kind)
			}
			tok = inner
		}
		if !bytes.Equal(tok, body) {
			t.Fatalf("round %d: client got %d bytes back, want %d", round, len(tok), n)
		}
	}
}

// TestNestedLayerReplayAtMiddleHop: a hop that sees the same inner token
// twice (a rogue first hop replaying what it forwarded) rejects it.
func TestNestedLayerReplayAtMiddleHop(t *testing.T) {
	ck, hk := circuitKeys(t)
	inner := mustSeal(t, onion.NewSealer(ck[1].Forward), onion.KindMessage, []byte("to hop 2"))
	o := onion.NewOpener(hk[1].Forward)
	if _, _, err := o.Open(inner); err != nil {
		t.Fatal(err)
	}
	if _, _, err := o.Open(inner); !errors.Is(err, onion.ErrSequence) {
		t.Fatalf("replayed inner token: err = %v, want ErrSequence", err)
	}
}

// FuzzOpenLayer: no byte string panics Open, and none opens but a real
// token: with a fresh Opener under the vector key, only the vector's
// sequence-0 token can succeed (the fuzzer cannot forge the MAC).
func FuzzOpenLayer(f *testing.F) {
	v := loadLayerVectors(f)
	for _, tv := range v.Tokens {
		f.Add([]byte(tv.Token))
	}
	for _, bad := range v.Invalid {
		f.Add([]byte(bad.Token))
	}
	for _, tok := range v.Circuit.Tokens {
		f.Add([]byte(tok))
	}
	f.Add([]byte{0x80})
	f.Add(make([]byte, onion.MinTokenLen))
	key := fernetKey(v.Key)
	first := v.Tokens[0]
	if first.Seq != 0 {
		f.Fatal("vector tokens[0] must have sequence number 0")
	}
	f.Fuzz(func(t *testing.T, tok []byte) {
		kind, body, err := onion.NewOpener(key).Open(tok)
		if err != nil {
			if !errors.Is(err, onion.ErrLayer) && !errors.Is(err, onion.ErrSequence) {
				t.Fatalf("err = %v, want ErrLayer or ErrSequence", err)
			}
			if errors.Is(err, onion.ErrSequence) && !isVectorToken(v, tok) {
				t.Fatalf("ErrSequence (the MAC verified) for a token that is not in the vectors: %x", tok)
			}
			return
		}
		if !bytes.Equal(tok, first.Token) || kind != onion.LayerKind(first.Kind) || !bytes.Equal(body, first.Body) {
			t.Fatalf("Open accepted %x as %v %x", tok, kind, body)
		}
	})
}

func isVectorToken(v layerVectors, tok []byte) bool {
	for _, tv := range v.Tokens {
		if bytes.Equal(tv.Token, tok) {
			return true
		}
	}
	return false
}

// TestOpenInPlaceAndSealMessage: the data path's variants agree with the
// plain ones: SealMessage seals exactly m's encoding, OpenInPlace returns
// the same body (aliasing the token), and an OpenInPlace that fails the
// MAC leaves the token as it was (it decrypts only after the MAC holds).
func TestOpenInPlaceAndSealMessage(t *testing.T) {
	k := testKey(t)
	m := onion.RelayMsg{Cmd: onion.RelayData, Stream: 7, Body: bytes.Repeat([]byte("x"), 1000)}
	tok, err := onion.NewSealer(k).SealMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.MarshalBinary()
	kind, body, err := onion.NewOpener(k).OpenInPlace(tok)
	if err != nil || kind != onion.KindMessage || !bytes.Equal(body, want) {
		t.Fatalf("OpenInPlace(SealMessage) = %v, %d bytes, %v", kind, len(body), err)
	}
	if &body[0] != &tok[25+onion.LayerHeaderLen] { // version, timestamp, IV; then the layer header
		t.Error("OpenInPlace did not decrypt into the token")
	}
	bad := mustSeal(t, onion.NewSealer(k), onion.KindMessage, []byte("payload"))
	bad[len(bad)-1] ^= 1
	before := append([]byte(nil), bad...)
	if _, _, err := onion.NewOpener(k).OpenInPlace(bad); !errors.Is(err, onion.ErrLayer) {
		t.Fatalf("tampered token: %v", err)
	}
	if !bytes.Equal(bad, before) {
		t.Fatal("a failed OpenInPlace changed the token")
	}
	if _, err := onion.NewSealer(k).SealMessage(onion.RelayMsg{Cmd: onion.RelayData, Body: make([]byte, onion.MaxData+1)}); err == nil {
		t.Fatal("SealMessage accepted an oversize DATA body")
	}
}
