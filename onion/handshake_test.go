package onion_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"onion/onion"
)

type handshakeVector struct {
	Format       string   `json:"format"`
	IdentityKey  hexBytes `json:"identity_key"`
	OnionKeySeed hexBytes `json:"onion_key_seed"`
	OnionKey     hexBytes `json:"onion_key"`
	ClientSeed   hexBytes `json:"client_seed"`
	ClientPublic hexBytes `json:"client_public"`
	ServerSeed   hexBytes `json:"server_seed"`
	ServerPublic hexBytes `json:"server_public"`
	S1           hexBytes `json:"s1"`
	S2           hexBytes `json:"s2"`
	Create       hexBytes `json:"create"`
	Created      hexBytes `json:"created"`
	Forward      hexBytes `json:"forward"`
	Backward     hexBytes `json:"backward"`
}

func loadHandshakeVector(tb testing.TB) handshakeVector {
	var v handshakeVector
	readVectors(tb, "handshake.json", &v)
	return v
}

func (v handshakeVector) relayKeys() onion.RelayKeys {
	return onion.RelayKeys{ID: v.IdentityKey, OnionKey: mustX25519(v.OnionKeySeed)}
}

func (v handshakeVector) client(tb testing.TB) *onion.ClientHandshake {
	h, _, err := onion.NewClientHandshake(bytes.NewReader(v.ClientSeed), v.IdentityKey, v.OnionKey)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// testRelay is a relay's handshake keys made from crypto/rand.
func testRelay(t *testing.T) onion.RelayKeys {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := onion.GenerateOnionKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return onion.RelayKeys{ID: pub, OnionKey: b}
}

// handshake runs both sides with crypto/rand and returns everything.
func handshake(t *testing.T, k onion.RelayKeys) (client, relay onion.HopKeys, create, created []byte) {
	t.Helper()
	h, create, err := onion.NewClientHandshake(nil, k.ID, k.OnionKey.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	created, relay, err = onion.ServerHandshake(nil, k, create)
	if err != nil {
		t.Fatal(err)
	}
	client, err = h.Finish(created)
	if err != nil {
		t.Fatal(err)
	}
	return client, relay, create, created
}

func TestHandshakeRoundTrip(t *testing.T) {
	k := testRelay(t)
	c1, r1, create, created := handshake(t, k)
	if c1 != r1 {
		t.Fatal("client and relay derived different hop keys")
	}
	if c1.Forward == c1.Backward {
		t.Fatal("Forward == Backward: one key would serve both directions")
	}
	if len(create) != onion.CreateLen || len(created) != onion.CreatedLen {
		t.Fatalf("CREATE %d bytes, CREATED %d bytes; want %d, %d", len(create), len(created), onion.CreateLen, onion.CreatedLen)
	}
	if !bytes.Equal(create[:onion.KeyLen], k.ID) || !bytes.Equal(create[onion.KeyLen:2*onion.KeyLen], k.OnionKey.PublicKey().Bytes()) {
		t.Fatal("CREATE does not start with ID | B")
	}
	// A second circuit through the same relay gets unrelated keys: the
	// ephemeral keys, not the onion key, make them.
	c2, _, _, _ := handshake(t, k)
	if c2.Forward == c1.Forward || c2.Backward == c1.Backward {
		t.Fatal("two handshakes with one relay gave the same keys")
	}
}

// TestHandshakeVector checks the package against testdata/handshake.json and
// the vector against the reference derivation in ref_test.go, so the vector
// states the protocol, not just what this code happens to do.
func TestHandshakeVector(t *testing.T) {
	v := loadHandshakeVector(t)

	// The vector against the reference.
	x, y, b := mustX25519(v.ClientSeed), mustX25519(v.ServerSeed), mustX25519(v.OnionKeySeed)
	for _, c := range []struct {
		name      string
		got, want []byte
	}{
		{"onion_key", b.PublicKey().Bytes(), v.OnionKey},
		{"client_public", x.PublicKey().Bytes(), v.ClientPublic},
		{"server_public", y.PublicKey().Bytes(), v.ServerPublic},
		{"s1 = x*Y", mustECDH(x, v.ServerPublic), v.S1},
		{"s1 = y*X", mustECDH(y, v.ClientPublic), v.S1},
		{"s2 = x*B", mustECDH(x, v.OnionKey), v.S2},
		{"s2 = b*X", mustECDH(b, v.ClientPublic), v.S2},
		{"create", bytes.Join([][]byte{v.IdentityKey, v.OnionKey, v.ClientPublic}, nil), v.Create},
	} {
		if !bytes.Equal(c.got, c.want) {
			t.Fatalf("reference %s = %x, vector has %x", c.name, c.got, c.want)
		}
	}
	fwd, bwd, auth := refHandshake(v.S1, v.S2, v.IdentityKey, v.OnionKey, v.ClientPublic, v.ServerPublic)
	if !bytes.Equal(fwd, v.Forward) || !bytes.Equal(bwd, v.Backward) || !bytes.Equal(append(v.ServerPublic, auth...), v.Created) {
		t.Fatal("reference derivation disagrees with the vector")
	}

	// The package against the vector.
	clientRand := bytes.NewReader(v.ClientSeed)
	h, create, err := onion.NewClientHandshake(clientRand, v.IdentityKey, v.OnionKey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(create, v.Create) {
		t.Fatalf("CREATE = %x\nwant     %x", create, v.Create)
	}
	if clientRand.Len() != 0 {
		t.Errorf("client left %d of its 32 random bytes unread", clientRand.Len())
	}
	created, relayKeys, err := onion.ServerHandshake(bytes.NewReader(v.ServerSeed), v.relayKeys(), create)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(created, v.Created) {
		t.Fatalf("CREATED = %x\nwant      %x", created, v.Created)
	}
	clientKeys, err := h.Finish(created)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []onion.HopKeys{clientKeys, relayKeys} {
		if !bytes.Equal(k.Forward[:], v.Forward) || !bytes.Equal(k.Backward[:], v.Backward) {
			t.Fatalf("hop keys = %x / %x, want %s / %s", k.Forward, k.Backward, hex.EncodeToString(v.Forward), hex.EncodeToString(v.Backward))
		}
	}
}

// TestFinishRejectsEveryBitFlip: one flipped bit anywhere in Y or AUTH is
// ErrHandshake. That includes Y's top bit, which X25519 itself ignores: the
// transcript covers Y's bytes, not just the point.
func TestFinishRejectsEveryBitFlip(t *testing.T) {
	v := loadHandshakeVector(t)
	h := v.client(t)
	for i := 0; i < 8*len(v.Created); i++ {
		keys, err := h.Finish(flipBit(v.Created, i))
		if err != onion.ErrHandshake {
			t.Fatalf("bit %d flipped: Finish = %x, %v; want ErrHandshake", i, keys.Forward, err)
		}
	}
	// The Finish calls above did not spoil the state for the real answer.
	if _, err := h.Finish(v.Created); err != nil {
		t.Fatalf("Finish(real CREATED) after failures: %v", err)
	}
}

func TestHandshakeWrongLengths(t *testing.T) {
	v := loadHandshakeVector(t)
	h := v.client(t)
	for _, n := range []int{0, 1, onion.KeyLen, onion.CreatedLen - 1, onion.CreatedLen + 1, onion.CreateLen} {
		b := make([]byte, n)
		copy(b, v.Created)
		if _, err := h.Finish(b); err != onion.ErrHandshake {
			t.Errorf("Finish(%d bytes) = %v, want ErrHandshake", n, err)
		}
	}
	long := append(append([]byte{}, v.Created...), 0)
	if _, err := h.Finish(long); err != onion.ErrHandshake {
		t.Errorf("Finish(valid CREATED + 1 byte) = %v, want ErrHandshake", err)
	}
	for _, n := range []int{0, onion.CreateLen - 1, onion.CreateLen + 1, 2 * onion.CreateLen} {
		b := make([]byte, n)
		copy(b, v.Create)
		created, _, err := onion.ServerHandshake(bytes.NewReader(v.ServerSeed), v.relayKeys(), b)
		if err != onion.ErrHandshake || created != nil {
			t.Errorf("ServerHandshake(%d bytes) = %x, %v; want ErrHandshake", n, created, err)
		}
	}
	for _, c := range []struct{ id, b []byte }{
		{v.IdentityKey[:31], v.OnionKey},
		{v.IdentityKey, v.OnionKey[:31]},
		{append(append([]byte{}, v.IdentityKey...), 0), v.OnionKey},
		{nil, nil},
	} {
		if _, _, err := onion.NewClientHandshake(bytes.NewReader(v.ClientSeed), c.id, c.b); err == nil {
			t.Errorf("NewClientHandshake(%d-byte id, %d-byte onion key) succeeded", len(c.id), len(c.b))
		}
	}
}

// TestServerHandshakeWrongRelayKeys: a CREATE built from a stale or foreign
// descriptor is told apart (ErrWrongRelayKeys, so the relay can answer
// DestroyWrongKey) and gets no CREATED.
func TestServerHandshakeWrongRelayKeys(t *testing.T) {
	v := loadHandshakeVector(t)
	for _, c := range []struct {
		name string
		i    int // byte to change in CREATE
	}{
		{"wrong identity, first byte", 0},
		{"wrong identity, last byte", onion.KeyLen - 1},
		{"wrong onion key, first byte", onion.KeyLen},
		{"wrong onion key, last byte", 2*onion.KeyLen - 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			create := append([]byte{}, v.Create...)
			create[c.i] ^= 1
			created, _, err := onion.ServerHandshake(bytes.NewReader(v.ServerSeed), v.relayKeys(), create)
			if err != onion.ErrWrongRelayKeys || created != nil {
				t.Fatalf("ServerHandshake = %x, %v; want ErrWrongRelayKeys", created, err)
			}
		})
	}
	// A relay that rotated its onion key answers the old one the same way.
	rotated := onion.RelayKeys{ID: v.IdentityKey, OnionKey: mustX25519(seqBytes(0x99, 32))}
	if _, _, err := onion.ServerHandshake(nil, rotated, v.Create); err != onion.ErrWrongRelayKeys {
		t.Fatalf("rotated relay: err = %v, want ErrWrongRelayKeys", err)
	}
}

// lowOrderPoints are X25519 u-coordinates whose multiples by a clamped
// scalar are all zero: the small-order points and their non-canonical
// encodings (the libsodium blocklist), each also with the ignored top bit set.
func lowOrderPoints() [][]byte {
	var pts [][]byte
	for _, h := range []string{
		"0000000000000000000000000000000000000000000000000000000000000000", // 0
		"0100000000000000000000000000000000000000000000000000000000000000", // 1
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", // order 8
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", // order 8
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p-1
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p (= 0)
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p+1 (= 1)
	} {
		b, _ := hex.DecodeString(h)
		hi := append([]byte{}, b...)
		hi[31] |= 0x80
		pts = append(pts, b, hi)
	}
	return pts
}

// TestHandshakeLowOrderPoints: a low-order X or Y is ErrHandshake, not a
// panic and not a key made from an all-zero secret. For Y the AUTH is made
// correctly by the real relay (which knows b), so only the low-order check
// can be what rejects it.
func TestHandshakeLowOrderPoints(t *testing.T) {
	v := loadHandshakeVector(t)
	h := v.client(t)
	b := mustX25519(v.OnionKeySeed)
	zero := make([]byte, 32)
	for _, p := range lowOrderPoints() {
		create := bytes.Join([][]byte{v.IdentityKey, v.OnionKey, p}, nil)
		created, _, err := onion.ServerHandshake(bytes.NewReader(v.ServerSeed), v.relayKeys(), create)
		if err != onion.ErrHandshake || created != nil {
			t.Errorf("X = %x: ServerHandshake = %x, %v; want ErrHandshake", p, created, err)
		}

		// The relay's s1 for a low-order Y is all zeros (or, for code that
		// drops the failed ECDH's result, empty); either way it is refused.
		for _, s1 := range [][]byte{zero, nil} {
			_, _, auth := refHandshake(s1, mustECDH(b, v.ClientPublic), v.IdentityKey, v.OnionKey, v.ClientPublic, p)
			if _, err := h.Finish(append(append([]byte{}, p...), auth...)); err != onion.ErrHandshake {
				t.Errorf("Y = %x with AUTH over s1 = %x: Finish = %v, want ErrHandshake", p, s1, err)
			}
		}
	}
}

// TestHandshakeImpersonation: whoever does not hold the onion key the client
// named cannot produce a CREATED the client accepts, however it computes it.
func TestHandshakeImpersonation(t *testing.T) {
	v := loadHandshakeVector(t)
	h := v.client(t)
	rogueKey := mustX25519(seqBytes(0x77, 32)) // the impostor's own onion key
	y := mustX25519(seqBytes(0x55, 32))
	Y := y.PublicKey().Bytes()
	s1 := mustECDH(y, v.ClientPublic) // the impostor can compute s1; s2 = b*X needs b
	for _, c := range []struct {
		name string
		s2   []byte
	}{
		{"own onion key times X", mustECDH(rogueKey, v.ClientPublic)},
		{"y times B", mustECDH(y, v.OnionKey)},
		{"s1 again", s1},
		{"zero", make([]byte, 32)},
	} {
		_, _, auth := refHandshake(s1, c.s2, v.IdentityKey, v.OnionKey, v.ClientPublic, Y)
		if _, err := h.Finish(append(append([]byte{}, Y...), auth...)); err != onion.ErrHandshake {
			t.Errorf("impostor using s2 = %s: Finish = %v, want ErrHandshake", c.name, err)
		}
	}

	// The impostor runs the real relay code with its own key, rewriting the
	// CREATE to name that key so the code does not refuse.
	rogue := onion.RelayKeys{ID: v.IdentityKey, OnionKey: rogueKey}
	if _, _, err := onion.ServerHandshake(nil, rogue, v.Create); err != onion.ErrWrongRelayKeys {
		t.Fatalf("rogue relay answered a CREATE for another key: %v", err)
	}
	forged := bytes.Join([][]byte{v.IdentityKey, rogueKey.PublicKey().Bytes(), v.ClientPublic}, nil)
	created, _, err := onion.ServerHandshake(nil, rogue, forged)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Finish(created); err != onion.ErrHandshake {
		t.Fatalf("client accepted CREATED from a relay with another onion key: %v", err)
	}

	// Replaying the real relay's CREATED from another circuit fails too:
	// it answers another X.
	other, _, err := onion.NewClientHandshake(bytes.NewReader(seqBytes(0x33, 32)), v.IdentityKey, v.OnionKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Finish(v.Created); err != onion.ErrHandshake {
		t.Fatalf("client accepted a CREATED replayed from another handshake: %v", err)
	}
}

// TestHandshakeRandFailure: a failing entropy source is an error on both
// sides, never a key made from zeros.
func TestHandshakeRandFailure(t *testing.T) {
	v := loadHandshakeVector(t)
	for _, r := range []io.Reader{
		bytes.NewReader(nil),
		bytes.NewReader(make([]byte, 31)),
		iotest.ErrReader(errors.New("no entropy")),
	} {
		if h, create, err := onion.NewClientHandshake(r, v.IdentityKey, v.OnionKey); err == nil {
			t.Errorf("NewClientHandshake with failing rand = %v, %x", h, create)
		}
	}
	created, _, err := onion.ServerHandshake(bytes.NewReader(make([]byte, 31)), v.relayKeys(), v.Create)
	if err == nil || created != nil {
		t.Errorf("ServerHandshake with failing rand = %x, %v", created, err)
	}
	if _, err := onion.GenerateOnionKey(iotest.ErrReader(errors.New("no entropy"))); err == nil {
		t.Error("GenerateOnionKey with failing rand succeeded")
	}
}

func TestGenerateOnionKey(t *testing.T) {
	a, err := onion.GenerateOnionKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := onion.GenerateOnionKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Equal(b) {
		t.Fatal("two onion keys from crypto/rand are equal")
	}
	if a.Curve() != ecdh.X25519() {
		t.Fatal("onion key is not X25519")
	}
	v := loadHandshakeVector(t)
	c, err := onion.GenerateOnionKey(bytes.NewReader(v.OnionKeySeed))
	if err != nil || !bytes.Equal(c.PublicKey().Bytes(), v.OnionKey) {
		t.Fatalf("GenerateOnionKey(fixed seed) = %x, %v; want %x", c.PublicKey().Bytes(), err, v.OnionKey)
	}
}

// FuzzServerHandshake: no CREATE payload panics the relay; a wrong length
// or a low-order X is ErrHandshake, foreign keys are ErrWrongRelayKeys, and
// whatever it accepts, it answers exactly as the reference derivation does.
func FuzzServerHandshake(f *testing.F) {
	v := loadHandshakeVector(f)
	f.Add([]byte(v.Create))
	f.Add(bytes.Join([][]byte{v.IdentityKey, v.OnionKey, make([]byte, 32)}, nil))
	f.Add(bytes.Join([][]byte{v.IdentityKey, v.OnionKey, lowOrderPoints()[5]}, nil))
	f.Add(append([]byte{1}, v.Create[1:]...))
	f.Add([]byte(v.Create[:95]))
	k := v.relayKeys()
	y := mustX25519(v.ServerSeed)
	f.Fuzz(func(t *testing.T, create []byte) {
		checkServerHandshake(t, v, k, y, create)
		// Most mutations land in ID | B; also try the input as X alone, so
		// the X25519 path gets fuzzed as hard as the key check.
		if len(create) >= onion.KeyLen {
			checkServerHandshake(t, v, k, y, bytes.Join([][]byte{v.IdentityKey, v.OnionKey, create[:onion.KeyLen]}, nil))
		}
	})
}

// checkServerHandshake is one FuzzServerHandshake case.
func checkServerHandshake(t *testing.T, v handshakeVector, k onion.RelayKeys, y *ecdh.PrivateKey, create []byte) {
	t.Helper()
	created, keys, err := onion.ServerHandshake(bytes.NewReader(v.ServerSeed), k, create)
	switch {
	case len(create) != onion.CreateLen:
		if err != onion.ErrHandshake {
			t.Fatalf("%d-byte CREATE: err = %v, want ErrHandshake", len(create), err)
		}
		return
	case !bytes.Equal(create[:2*onion.KeyLen], v.Create[:2*onion.KeyLen]):
		if err != onion.ErrWrongRelayKeys {
			t.Fatalf("foreign keys: err = %v, want ErrWrongRelayKeys", err)
		}
		return
	case err != nil:
		if err != onion.ErrHandshake {
			t.Fatalf("err = %v, want ErrHandshake", err)
		}
		return
	}
	X := create[2*onion.KeyLen:]
	s1, s2 := mustECDH(y, X), mustECDH(k.OnionKey, X)
	fwd, bwd, auth := refHandshake(s1, s2, v.IdentityKey, v.OnionKey, X, v.ServerPublic)
	if !bytes.Equal(created, append(append([]byte{}, v.ServerPublic...), auth...)) ||
		!bytes.Equal(keys.Forward[:], fwd) || !bytes.Equal(keys.Backward[:], bwd) {
		t.Fatalf("accepted X %x but answered unlike the reference", X)
	}
}

// FuzzClientFinish: no CREATED panics the client, and none is accepted but
// the one the real relay sent (the fuzzer cannot forge AUTH).
func FuzzClientFinish(f *testing.F) {
	v := loadHandshakeVector(f)
	f.Add([]byte(v.Created))
	f.Add(flipBit(v.Created, 8*onion.KeyLen))
	f.Add(make([]byte, onion.CreatedLen))
	f.Add([]byte(v.Created[:onion.KeyLen]))
	h := v.client(f)
	f.Fuzz(func(t *testing.T, created []byte) {
		keys, err := h.Finish(created)
		if err != nil {
			if err != onion.ErrHandshake {
				t.Fatalf("err = %v, want ErrHandshake", err)
			}
			return
		}
		if !bytes.Equal(created, v.Created) {
			t.Fatalf("accepted a CREATED the relay never sent: %x", created)
		}
		if !bytes.Equal(keys.Forward[:], v.Forward) || !bytes.Equal(keys.Backward[:], v.Backward) {
			t.Fatal("accepted the real CREATED with the wrong keys")
		}
	})
}
