package onion_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"onion/onion"
)

type descriptorVector struct {
	Format        string   `json:"format"`
	IdentitySeed  hexBytes `json:"identity_seed"`
	Nickname      string   `json:"nickname"`
	Address       string   `json:"address"`
	IdentityKey   hexBytes `json:"identity_key"`
	OnionKey      hexBytes `json:"onion_key"`
	Exit          bool     `json:"exit"`
	Published     int64    `json:"published"`
	SignedBytes   hexBytes `json:"signed_bytes"`
	Signature     hexBytes `json:"signature"`
	Fingerprint   string   `json:"fingerprint"`
	DirectorySeed hexBytes `json:"directory_seed"`
	DirectoryKey  hexBytes `json:"directory_key"`
	Document      string   `json:"document"`
	ListSignature hexBytes `json:"list_signature"`
	ValidAfter    int64    `json:"valid_after"`
	ValidUntil    int64    `json:"valid_until"`
}

func loadDescriptorVector(tb testing.TB) descriptorVector {
	var v descriptorVector
	readVectors(tb, "descriptors.json", &v)
	return v
}

func (v descriptorVector) descriptor() onion.RelayDescriptor {
	return onion.RelayDescriptor{
		Nickname: v.Nickname, Address: v.Address, IdentityKey: v.IdentityKey, OnionKey: v.OnionKey,
		Exit: v.Exit, Published: v.Published, Signature: v.Signature,
	}
}

func (v descriptorVector) signedList() onion.SignedRelayList {
	return onion.SignedRelayList{Document: v.Document, Signature: v.ListSignature}
}

// listTime is a moment inside the vector list's validity window.
func (v descriptorVector) listTime() time.Time { return time.Unix(v.ValidAfter+60, 0) }

var fingerprintRE = regexp.MustCompile(`^[0-9A-F]{40}$`)

// TestDescriptorVector pins the signed byte string and the signature, and
// checks them against the reference layout in ref_test.go.
func TestDescriptorVector(t *testing.T) {
	v := loadDescriptorVector(t)
	ref := refDescriptorSignedBytes(v.Nickname, v.Address, v.IdentityKey, v.OnionKey, v.Exit, v.Published)
	if !bytes.Equal(ref, v.SignedBytes) {
		t.Fatalf("reference signed bytes %x, vector %x", ref, v.SignedBytes)
	}
	d := v.descriptor()
	if got := d.SignedBytes(); !bytes.Equal(got, v.SignedBytes) {
		t.Fatalf("SignedBytes = %x\nwant          %x", got, v.SignedBytes)
	}
	if err := d.Check(); err != nil {
		t.Fatalf("Check(vector) = %v", err)
	}
	d.IdentityKey, d.Signature = nil, nil
	d.Sign(ed25519.NewKeyFromSeed(v.IdentitySeed))
	if !bytes.Equal(d.IdentityKey, v.IdentityKey) || !bytes.Equal(d.Signature, v.Signature) {
		t.Fatalf("Sign gave key %x, signature %x", d.IdentityKey, d.Signature)
	}
	sum := sha256.Sum256(v.IdentityKey)
	if want := strings.ToUpper(hex.EncodeToString(sum[:20])); v.Fingerprint != want {
		t.Fatalf("vector fingerprint %s, reference %s", v.Fingerprint, want)
	}
	if got := d.Fingerprint(); got != v.Fingerprint || onion.Fingerprint(v.IdentityKey) != v.Fingerprint {
		t.Fatalf("Fingerprint = %s, want %s", got, v.Fingerprint)
	}
}

func TestFingerprint(t *testing.T) {
	seen := map[string]bool{}
	for _, id := range [][]byte{nil, {0}, seqBytes(0, 32), seqBytes(1, 32)} {
		fp := onion.Fingerprint(id)
		if !fingerprintRE.MatchString(fp) {
			t.Errorf("Fingerprint(%x) = %q, want 40 upper-case hex characters", id, fp)
		}
		if seen[fp] {
			t.Errorf("Fingerprint(%x) = %q repeats", id, fp)
		}
		seen[fp] = true
	}
}

// newDescriptor signs a fresh descriptor with a new identity key.
func newDescriptor(t *testing.T, nick, addr string) (onion.RelayDescriptor, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := onion.GenerateOnionKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := onion.RelayDescriptor{Nickname: nick, Address: addr, OnionKey: b.PublicKey().Bytes(), Published: 1700000000}
	d.Sign(priv)
	return d, priv
}

func TestDescriptorSignCheck(t *testing.T) {
	d, priv := newDescriptor(t, "relay_One-2", "[::1]:9001")
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.IdentityKey, priv.Public().(ed25519.PublicKey)) {
		t.Fatal("Sign did not set IdentityKey to the signer's public key")
	}
	// JSON, the way the directory serves it, keeps it valid.
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back onion.RelayDescriptor
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Check(); err != nil || !reflect.DeepEqual(back, d) {
		t.Fatalf("after JSON: %+v, %v", back, err)
	}
	// 32-character nickname and exit flag are fine too.
	d2, _ := newDescriptor(t, strings.Repeat("n", onion.MaxNicknameLen), "relay.example:1")
	if err := d2.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestDescriptorTamper: any field changed after signing is ErrSignature,
// including moving a byte from one field into the next (the length prefixes
// make the signed string unambiguous).
func TestDescriptorTamper(t *testing.T) {
	base, _ := newDescriptor(t, "relay1", "1.example:80")
	other, _ := newDescriptor(t, "relay2", "2.example:80")
	for _, c := range []struct {
		name   string
		change func(d *onion.RelayDescriptor)
	}{
		{"nickname", func(d *onion.RelayDescriptor) { d.Nickname = "relay2" }},
		{"nickname case", func(d *onion.RelayDescriptor) { d.Nickname = "Relay1" }},
		{"address host", func(d *onion.RelayDescriptor) { d.Address = "2.example:80" }},
		{"address port", func(d *onion.RelayDescriptor) { d.Address = "1.example:81" }},
		{"byte moved from nickname to address", func(d *onion.RelayDescriptor) {
			d.Nickname, d.Address = "relay", "11.example:80"
		}},
		{"identity key", func(d *onion.RelayDescriptor) { d.IdentityKey = other.IdentityKey }},
		{"onion key", func(d *onion.RelayDescriptor) { d.OnionKey = other.OnionKey }},
		{"onion key, one bit", func(d *onion.RelayDescriptor) { d.OnionKey = flipBit(d.OnionKey, 100) }},
		{"exit flag", func(d *onion.RelayDescriptor) { d.Exit = true }},
		{"published", func(d *onion.RelayDescriptor) { d.Published++ }},
		{"published, negative", func(d *onion.RelayDescriptor) { d.Published = -d.Published }},
		{"signature from another relay", func(d *onion.RelayDescriptor) { d.Signature = other.Signature }},
		{"signature, first bit", func(d *onion.RelayDescriptor) { d.Signature = flipBit(d.Signature, 0) }},
		{"signature, last bit", func(d *onion.RelayDescriptor) { d.Signature = flipBit(d.Signature, 511) }},
		{"signature too short", func(d *onion.RelayDescriptor) { d.Signature = d.Signature[:63] }},
		{"signature too long", func(d *onion.RelayDescriptor) { d.Signature = append(d.Signature, 0) }},
		{"no signature", func(d *onion.RelayDescriptor) { d.Signature = nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := base
			d.IdentityKey = append([]byte{}, base.IdentityKey...)
			d.OnionKey = append([]byte{}, base.OnionKey...)
			d.Signature = append([]byte{}, base.Signature...)
			c.change(&d)
			if err := d.Check(); err != onion.ErrSignature {
				t.Fatalf("Check = %v, want ErrSignature", err)
			}
		})
	}
	if err := base.Check(); err != nil {
		t.Fatalf("the changes leaked into the original: %v", err)
	}
}

// TestDescriptorBadFields: fields that are wrong in themselves are refused
// with their own error, even when correctly signed.
func TestDescriptorBadFields(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	good := onion.RelayDescriptor{Nickname: "relay", Address: "relay.example:9001", OnionKey: seqBytes(0, 32)}
	for _, c := range []struct {
		name     string
		change   func(d *onion.RelayDescriptor)
		afterSig bool // change the field after signing (for the identity key, which Sign sets)
		want     string
	}{
		{"empty nickname", func(d *onion.RelayDescriptor) { d.Nickname = "" }, false, "nickname"},
		{"33-character nickname", func(d *onion.RelayDescriptor) { d.Nickname = strings.Repeat("n", 33) }, false, "nickname"},
		{"nickname with a space", func(d *onion.RelayDescriptor) { d.Nickname = "my relay" }, false, "nickname"},
		{"nickname with a dot", func(d *onion.RelayDescriptor) { d.Nickname = "relay.one" }, false, "nickname"},
		{"nickname with a newline", func(d *onion.RelayDescriptor) { d.Nickname = "relay\n" }, false, "nickname"},
		{"non-ASCII nickname", func(d *onion.RelayDescriptor) { d.Nickname = "rélay" }, false, "nickname"},
		{"address without port", func(d *onion.RelayDescriptor) { d.Address = "relay.example" }, false, "address"},
		{"address with port 0", func(d *onion.RelayDescriptor) { d.Address = "relay.example:0" }, false, "address"},
		{"address with empty host", func(d *onion.RelayDescriptor) { d.Address = ":9001" }, false, "address"},
		{"address with a space", func(d *onion.RelayDescriptor) { d.Address = "relay example:9001" }, false, "address"},
		// 64 KiB of leading zeros would wrap the 16-bit length prefix of the
		// signed bytes and make the encoding ambiguous.
		{"address with a 64 KiB port", func(d *onion.RelayDescriptor) {
			d.Address = "relay.example:" + strings.Repeat("0", 1<<16) + "9001"
		}, false, "address"},
		{"31-byte onion key", func(d *onion.RelayDescriptor) { d.OnionKey = seqBytes(0, 31) }, false, "32 bytes"},
		{"33-byte onion key", func(d *onion.RelayDescriptor) { d.OnionKey = seqBytes(0, 33) }, false, "32 bytes"},
		{"no onion key", func(d *onion.RelayDescriptor) { d.OnionKey = nil }, false, "32 bytes"},
		{"31-byte identity key", func(d *onion.RelayDescriptor) { d.IdentityKey = d.IdentityKey[:31] }, true, "32 bytes"},
		{"no identity key", func(d *onion.RelayDescriptor) { d.IdentityKey = nil }, true, "32 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := good
			if !c.afterSig {
				c.change(&d)
			}
			d.Sign(priv)
			if c.afterSig {
				c.change(&d)
			}
			err := d.Check()
			if err == nil || errors.Is(err, onion.ErrSignature) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check = %v, want an error about %q", err, c.want)
			}
		})
	}
}

// testList builds a signed list of n fresh relays valid around now.
func testList(t *testing.T, n int, now time.Time) (onion.RelayList, ed25519.PrivateKey) {
	t.Helper()
	_, dir, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	l := onion.RelayList{ValidAfter: now.Add(-time.Hour).Unix(), ValidUntil: now.Add(time.Hour).Unix()}
	for i := range n {
		d, _ := newDescriptor(t, "relay"+string(rune('a'+i)), "127.0.0.1:"+string(rune('1'+i)))
		d.Exit = i%2 == 0
		d.Sign(ed25519.NewKeyFromSeed(seqBytes(byte(i), 32)))
		l.Relays = append(l.Relays, d)
	}
	return l, dir
}

func mustSignList(t *testing.T, l onion.RelayList, dir ed25519.PrivateKey) onion.SignedRelayList {
	t.Helper()
	s, err := onion.SignRelayList(l, dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func dirPub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

func TestRelayListRoundTrip(t *testing.T) {
	now := time.Now()
	l, dir := testList(t, 3, now)
	s := mustSignList(t, l, dir)
	got, err := s.Open(dirPub(dir), now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, l) {
		t.Fatalf("Open = %+v\nwant %+v", got, l)
	}
	// The signed list survives the JSON the directory serves it as.
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back onion.SignedRelayList
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if _, err := back.Open(dirPub(dir), now); err != nil {
		t.Fatalf("after JSON: %v", err)
	}
	// An empty list is a valid list.
	empty := mustSignList(t, onion.RelayList{ValidAfter: l.ValidAfter, ValidUntil: l.ValidUntil}, dir)
	if got, err := empty.Open(dirPub(dir), now); err != nil || len(got.Relays) != 0 {
		t.Fatalf("empty list: %+v, %v", got, err)
	}
}

// TestRelayListVector: the pinned document and signature open, and the
// signature is over the tag and the document exactly.
func TestRelayListVector(t *testing.T) {
	v := loadDescriptorVector(t)
	dir := ed25519.NewKeyFromSeed(v.DirectorySeed)
	if !bytes.Equal(dirPub(dir), v.DirectoryKey) {
		t.Fatal("directory_key does not match directory_seed")
	}
	if !ed25519.Verify(ed25519.PublicKey(v.DirectoryKey), append([]byte("onion-relay-list-v1"), v.Document...), v.ListSignature) {
		t.Fatal("list_signature is not over \"onion-relay-list-v1\" | document")
	}
	l, err := v.signedList().Open(ed25519.PublicKey(v.DirectoryKey), v.listTime())
	if err != nil {
		t.Fatal(err)
	}
	want := onion.RelayList{ValidAfter: v.ValidAfter, ValidUntil: v.ValidUntil, Relays: []onion.RelayDescriptor{v.descriptor()}}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("Open = %+v\nwant %+v", l, want)
	}
}

func TestRelayListOpenRejectsSignature(t *testing.T) {
	now := time.Now()
	l, dir := testList(t, 2, now)
	s := mustSignList(t, l, dir)
	_, otherDir, _ := ed25519.GenerateKey(nil)
	otherList := mustSignList(t, l, otherDir)
	for _, c := range []struct {
		name string
		s    onion.SignedRelayList
		key  ed25519.PublicKey
	}{
		{"another directory's key", s, dirPub(otherDir)},
		{"signed by another directory", otherList, dirPub(dir)},
		{"nil key", s, nil},
		{"31-byte key", s, dirPub(dir)[:31]},
		{"no signature", onion.SignedRelayList{Document: s.Document}, dirPub(dir)},
		{"short signature", onion.SignedRelayList{Document: s.Document, Signature: s.Signature[:63]}, dirPub(dir)},
		{"long signature", onion.SignedRelayList{Document: s.Document, Signature: append(append([]byte{}, s.Signature...), 0)}, dirPub(dir)},
		{"document with a space added", onion.SignedRelayList{Document: s.Document + " ", Signature: s.Signature}, dirPub(dir)},
		{"document shortened", onion.SignedRelayList{Document: s.Document[:len(s.Document)-1], Signature: s.Signature}, dirPub(dir)},
		{"empty document", onion.SignedRelayList{Signature: s.Signature}, dirPub(dir)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, err := c.s.Open(c.key, now); err != onion.ErrSignature {
				t.Fatalf("Open = %+v, %v; want ErrSignature", got, err)
			}
		})
	}
}

// TestRelayListTamperEveryByte: one flipped bit in any byte of the document
// or any bit of the signature is ErrSignature.
func TestRelayListTamperEveryByte(t *testing.T) {
	v := loadDescriptorVector(t)
	key := ed25519.PublicKey(v.DirectoryKey)
	doc := []byte(v.Document)
	for i := range doc {
		for _, bit := range []byte{0x01, 0x20} {
			d := append([]byte{}, doc...)
			d[i] ^= bit
			s := onion.SignedRelayList{Document: string(d), Signature: v.ListSignature}
			if _, err := s.Open(key, v.listTime()); err != onion.ErrSignature {
				t.Fatalf("document byte %d ^ %#x: Open = %v, want ErrSignature", i, bit, err)
			}
		}
	}
	for i := 0; i < 8*len(v.ListSignature); i++ {
		s := onion.SignedRelayList{Document: v.Document, Signature: flipBit(v.ListSignature, i)}
		if _, err := s.Open(key, v.listTime()); err != onion.ErrSignature {
			t.Fatalf("signature bit %d: Open = %v, want ErrSignature", i, err)
		}
	}
}

// TestRelayListValidity: a list is accepted within its window widened by
// MaxClockSkew, and refused outside it with an error that says when it was
// valid (not ErrSignature: the signature was fine).
func TestRelayListValidity(t *testing.T) {
	now := time.Unix(1800000000, 0)
	skew := onion.MaxClockSkew
	_, dir, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name          string
		after, until  time.Time
		ok            bool
		wantInMessage string
	}{
		{"current", now.Add(-time.Hour), now.Add(time.Hour), true, ""},
		{"expired just within the skew", now.Add(-time.Hour), now.Add(-skew + time.Second), true, ""},
		{"not yet valid, just within the skew", now.Add(skew - time.Second), now.Add(time.Hour), true, ""},
		{"expired long ago", time.Unix(0, 0), time.Unix(3600, 0), false, "1970-01-01T01:00:00Z"},
		{"expired just past the skew", now.Add(-time.Hour), now.Add(-skew - time.Second), false, "relay list is not valid now"},
		{"not yet valid", now.Add(24 * time.Hour), now.Add(48 * time.Hour), false, now.Add(24 * time.Hour).UTC().Format(time.RFC3339)},
		{"not yet valid, just past the skew", now.Add(skew + time.Second), now.Add(time.Hour), false, "relay list is not valid now"},
		{"zero window", time.Unix(0, 0), time.Unix(0, 0), false, "relay list is not valid now"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := onion.RelayList{ValidAfter: c.after.Unix(), ValidUntil: c.until.Unix()}
			_, err := mustSignList(t, l, dir).Open(dirPub(dir), now)
			if c.ok {
				if err != nil {
					t.Fatalf("Open = %v", err)
				}
				return
			}
			if err == nil || errors.Is(err, onion.ErrSignature) || !strings.Contains(err.Error(), c.wantInMessage) {
				t.Fatalf("Open = %v; want a validity error mentioning %q", err, c.wantInMessage)
			}
		})
	}
}

// TestRelayListBadDescriptor: one bad descriptor condemns the whole list,
// and the error says which.
func TestRelayListBadDescriptor(t *testing.T) {
	now := time.Now()
	l, dir := testList(t, 3, now)
	l.Relays[1].Published++ // the relay's signature no longer covers it
	_, err := mustSignList(t, l, dir).Open(dirPub(dir), now)
	if !errors.Is(err, onion.ErrSignature) || !strings.Contains(err.Error(), "relay 1") {
		t.Fatalf("Open = %v; want ErrSignature naming relay 1", err)
	}

	l, dir = testList(t, 2, now)
	l.Relays[0].Nickname = "bad nickname"
	l.Relays[0].Sign(ed25519.NewKeyFromSeed(seqBytes(0, 32)))
	if _, err := mustSignList(t, l, dir).Open(dirPub(dir), now); err == nil || !strings.Contains(err.Error(), "relay 0") {
		t.Fatalf("Open = %v; want an error naming relay 0", err)
	}
}

// TestRelayListBadDocument: a correctly signed document that is not a relay
// list is an error, not a panic and not an empty list.
func TestRelayListBadDocument(t *testing.T) {
	_, dir, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(doc string) onion.SignedRelayList {
		return onion.SignedRelayList{Document: doc, Signature: ed25519.Sign(dir, append([]byte("onion-relay-list-v1"), doc...))}
	}
	for _, doc := range []string{"", "null x", "not json", "[1,2]", `{"valid_after":"soon"}`, `{"relays":{}}`, `{"relays":[{"nickname":1}]}`} {
		if l, err := sign(doc).Open(dirPub(dir), time.Now()); err == nil {
			t.Errorf("Open(%q) = %+v, want error", doc, l)
		}
	}
	// A signature over the document without the tag does not verify: the
	// tag keeps a descriptor signature from passing as a list signature.
	doc := `{"valid_after":0,"valid_until":9000000000,"relays":[]}`
	untagged := onion.SignedRelayList{Document: doc, Signature: ed25519.Sign(dir, []byte(doc))}
	if _, err := untagged.Open(dirPub(dir), time.Now()); err != onion.ErrSignature {
		t.Errorf("untagged signature: Open = %v, want ErrSignature", err)
	}
	huge := sign(strings.Repeat(" ", onion.MaxDocumentLen+1))
	if _, err := huge.Open(dirPub(dir), time.Now()); err == nil {
		t.Error("Open accepted a document over MaxDocumentLen")
	}
}

func TestKeyEncoding(t *testing.T) {
	v := loadDescriptorVector(t)
	key := ed25519.PublicKey(v.DirectoryKey)
	s := onion.EncodeKey(key)
	if len(s) != 43 || strings.ContainsAny(s, "=+/") {
		t.Fatalf("EncodeKey = %q, want 43 characters of unpadded URL-safe base64", s)
	}
	for _, in := range []string{s, s + "\n", "  " + s + "\r\n"} {
		got, err := onion.DecodeDirectoryKey(in)
		if err != nil || !bytes.Equal(got, key) {
			t.Fatalf("DecodeDirectoryKey(%q) = %x, %v", in, got, err)
		}
	}
	for _, in := range []string{
		"", s[:42], s + "A", s + "=", hex.EncodeToString(key),
		strings.NewReplacer("-", "+", "_", "/").Replace(onion.EncodeKey(seqBytes(0xf8, 32))), // standard alphabet
		s[:20] + " " + s[20:],
	} {
		if got, err := onion.DecodeDirectoryKey(in); err == nil {
			t.Errorf("DecodeDirectoryKey(%q) = %x, want error", in, got)
		}
	}
}

// FuzzSignedRelayListOpen: no document and signature panic Open. With an
// arbitrary signature nothing but the pinned list opens; with a real
// signature (sign = true) the document parser and the descriptor checks get
// fuzzed, and whatever opens is within its window and has valid descriptors.
func FuzzSignedRelayListOpen(f *testing.F) {
	v := loadDescriptorVector(f)
	f.Add(v.Document, []byte(v.ListSignature), false)
	f.Add(v.Document, []byte(v.ListSignature), true)
	f.Add(`{"valid_after":0,"valid_until":9000000000,"relays":[]}`, []byte{}, true)
	f.Add(`{"valid_after":0,"valid_until":9000000000,"relays":[{}]}`, []byte{}, true)
	f.Add("", make([]byte, 64), false)
	dir := ed25519.NewKeyFromSeed(v.DirectorySeed)
	key := dirPub(dir)
	now := v.listTime()
	skew := int64(onion.MaxClockSkew / time.Second)
	f.Fuzz(func(t *testing.T, doc string, sig []byte, sign bool) {
		if sign {
			sig = ed25519.Sign(dir, append([]byte("onion-relay-list-v1"), doc...))
		}
		l, err := onion.SignedRelayList{Document: doc, Signature: sig}.Open(key, now)
		if err != nil {
			return
		}
		if !sign && (doc != v.Document || !bytes.Equal(sig, v.ListSignature)) {
			t.Fatalf("opened a list the directory never signed: %q %x", doc, sig)
		}
		if now.Unix()+skew < l.ValidAfter || now.Unix()-skew > l.ValidUntil {
			t.Fatalf("opened a list valid %d to %d at %d", l.ValidAfter, l.ValidUntil, now.Unix())
		}
		for i := range l.Relays {
			if err := l.Relays[i].Check(); err != nil {
				t.Fatalf("opened a list whose relay %d fails Check: %v", i, err)
			}
		}
	})
}
