package onion_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"onion/onion"
)

type serviceVector struct {
	Format        string   `json:"format"`
	ServiceSeed   hexBytes `json:"service_seed"`
	ServiceKey    hexBytes `json:"service_key"`
	Address       string   `json:"address"`
	E2ESeed       hexBytes `json:"e2e_seed"`
	E2EKey        hexBytes `json:"e2e_key"`
	MeetingPoints []struct {
		Nickname     string   `json:"nickname"`
		Address      string   `json:"address"`
		IdentitySeed hexBytes `json:"identity_seed"`
		IdentityKey  hexBytes `json:"identity_key"`
		OnionSeed    hexBytes `json:"onion_seed"`
		OnionKey     hexBytes `json:"onion_key"`
	} `json:"meeting_points"`
	Published   int64    `json:"published"`
	SignedBytes hexBytes `json:"signed_bytes"`
	Signature   hexBytes `json:"signature"`
	Document    string   `json:"document"`
}

func loadServiceVector(tb testing.TB) serviceVector {
	var v serviceVector
	readVectors(tb, "service.json", &v)
	return v
}

func (v serviceVector) descriptor() onion.ServiceDescriptor {
	d := onion.ServiceDescriptor{ServiceKey: v.ServiceKey, E2EKey: v.E2EKey, Published: v.Published, Signature: v.Signature}
	for _, m := range v.MeetingPoints {
		d.MeetingPoints = append(d.MeetingPoints, onion.MeetingPoint{
			Nickname: m.Nickname, Address: m.Address, IdentityKey: m.IdentityKey, OnionKey: m.OnionKey})
	}
	return d
}

// refServiceSignedBytes is the service descriptor's signed byte string
// written out from the specification.
func refServiceSignedBytes(d onion.ServiceDescriptor) []byte {
	field := func(b, f []byte) []byte { return append(append(b, byte(len(f)>>8), byte(len(f))), f...) }
	b := []byte("onion-service-descriptor-v1")
	b = field(b, d.ServiceKey)
	b = field(b, d.E2EKey)
	b = append(b, byte(len(d.MeetingPoints)))
	for _, m := range d.MeetingPoints {
		b = field(field(field(field(b, []byte(m.Nickname)), []byte(m.Address)), m.IdentityKey), m.OnionKey)
	}
	return binary.BigEndian.AppendUint64(b, uint64(d.Published))
}

func TestServiceVector(t *testing.T) {
	v := loadServiceVector(t)
	d := v.descriptor()
	if ref := refServiceSignedBytes(d); !bytes.Equal(ref, v.SignedBytes) {
		t.Fatalf("reference signed bytes %x\nvector                  %x", ref, v.SignedBytes)
	}
	if got := d.SignedBytes(); !bytes.Equal(got, v.SignedBytes) {
		t.Fatalf("SignedBytes = %x\nwant          %x", got, v.SignedBytes)
	}
	if err := d.Check(); err != nil {
		t.Fatalf("Check(vector) = %v", err)
	}
	if got := d.Address(); got != v.Address {
		t.Fatalf("Address = %s, want %s", got, v.Address)
	}
	if ref, _ := refAddress(v.ServiceKey, 1); ref != v.Address {
		t.Fatalf("reference address %s, vector %s", ref, v.Address)
	}
	d.ServiceKey, d.Signature = nil, nil
	d.Sign(ed25519.NewKeyFromSeed(v.ServiceSeed))
	if !bytes.Equal(d.ServiceKey, v.ServiceKey) || !bytes.Equal(d.Signature, v.Signature) {
		t.Fatalf("Sign gave key %x, signature %x", d.ServiceKey, d.Signature)
	}
	// The JSON form is pinned too: it is what the directory stores and serves.
	if b, err := json.Marshal(d); err != nil || string(b) != v.Document {
		t.Fatalf("JSON %s, %v\nwant %s", b, err, v.Document)
	}
	var back onion.ServiceDescriptor
	if err := json.Unmarshal([]byte(v.Document), &back); err != nil || !reflect.DeepEqual(back, v.descriptor()) {
		t.Fatalf("decoded document %+v, %v", back, err)
	}
}

// serviceKey is a service key from a fixed seed.
func serviceKey(n byte) ed25519.PrivateKey { return ed25519.NewKeyFromSeed(seqBytes(n, 32)) }

// testMeetingPoint is meeting point i with fixed keys.
func testMeetingPoint(i int) onion.MeetingPoint {
	return onion.MeetingPoint{
		Nickname:    fmt.Sprintf("meet%d", i),
		Address:     fmt.Sprintf("127.0.0.1:%d", 9000+i),
		IdentityKey: ed25519.NewKeyFromSeed(seqBytes(byte(100+i), 32)).Public().(ed25519.PublicKey),
		OnionKey:    seqBytes(byte(200+i), 32),
	}
}

// testService is a descriptor with n meeting points published at pub,
// signed by serviceKey(1).
func testService(t testing.TB, n int, pub int64) onion.ServiceDescriptor {
	t.Helper()
	d := onion.ServiceDescriptor{E2EKey: seqBytes(50, 32), Published: pub}
	for i := range n {
		d.MeetingPoints = append(d.MeetingPoints, testMeetingPoint(i))
	}
	d.Sign(serviceKey(1))
	return d
}

// cloneService copies every slice, so a test may change one field in place.
func cloneService(d onion.ServiceDescriptor) onion.ServiceDescriptor {
	c := d
	c.ServiceKey, c.E2EKey, c.Signature = bytes.Clone(d.ServiceKey), bytes.Clone(d.E2EKey), bytes.Clone(d.Signature)
	c.MeetingPoints = nil
	for _, m := range d.MeetingPoints {
		m.IdentityKey, m.OnionKey = bytes.Clone(m.IdentityKey), bytes.Clone(m.OnionKey)
		c.MeetingPoints = append(c.MeetingPoints, m)
	}
	return c
}

func TestServiceSignCheck(t *testing.T) {
	for _, n := range []int{1, 3, onion.MaxMeetingPoints} {
		d := testService(t, n, 1700000000)
		if err := d.Check(); err != nil {
			t.Fatalf("%d meeting points: %v", n, err)
		}
		if want := serviceKey(1).Public().(ed25519.PublicKey); !bytes.Equal(d.ServiceKey, want) {
			t.Fatal("Sign did not set ServiceKey to the signer's public key")
		}
		if d.Address() != onion.EncodeAddress(d.ServiceKey) {
			t.Fatalf("Address = %s", d.Address())
		}
		var back onion.ServiceDescriptor
		if err := json.Unmarshal(mustMarshal(t, d), &back); err != nil {
			t.Fatal(err)
		}
		if err := back.Check(); err != nil || !reflect.DeepEqual(back, d) {
			t.Fatalf("after JSON: %+v, %v", back, err)
		}
	}
	if got := (&onion.ServiceDescriptor{ServiceKey: seqBytes(0, 31)}).Address(); got != "" {
		t.Errorf("Address of a 31-byte key = %q, want \"\"", got)
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestServiceTamper: any change after signing is ErrSignature, including
// moving bytes between fields and reordering the meeting points.
func TestServiceTamper(t *testing.T) {
	base := testService(t, 3, 1700000000)
	other := testService(t, 3, 1700000000)
	other.Sign(serviceKey(2))
	for _, c := range []struct {
		name   string
		change func(d *onion.ServiceDescriptor)
	}{
		{"service key", func(d *onion.ServiceDescriptor) { d.ServiceKey = other.ServiceKey }},
		{"service key, one bit", func(d *onion.ServiceDescriptor) { d.ServiceKey = flipBit(d.ServiceKey, 9) }},
		{"e2e key, one bit", func(d *onion.ServiceDescriptor) { d.E2EKey = flipBit(d.E2EKey, 255) }},
		{"meeting point nickname", func(d *onion.ServiceDescriptor) { d.MeetingPoints[1].Nickname = "meet9" }},
		{"meeting point address", func(d *onion.ServiceDescriptor) { d.MeetingPoints[2].Address = "127.0.0.1:9999" }},
		{"meeting point identity", func(d *onion.ServiceDescriptor) { d.MeetingPoints[0].IdentityKey = testMeetingPoint(7).IdentityKey }},
		{"meeting point onion key", func(d *onion.ServiceDescriptor) {
			d.MeetingPoints[0].OnionKey = flipBit(d.MeetingPoints[0].OnionKey, 0)
		}},
		{"byte moved from nickname to address", func(d *onion.ServiceDescriptor) {
			d.MeetingPoints[0].Nickname, d.MeetingPoints[0].Address = "meet", "0127.0.0.1:9000"
		}},
		{"meeting points swapped", func(d *onion.ServiceDescriptor) {
			d.MeetingPoints[0], d.MeetingPoints[1] = d.MeetingPoints[1], d.MeetingPoints[0]
		}},
		{"meeting point dropped", func(d *onion.ServiceDescriptor) { d.MeetingPoints = d.MeetingPoints[:2] }},
		{"meeting point added", func(d *onion.ServiceDescriptor) {
			d.MeetingPoints = append(d.MeetingPoints, testMeetingPoint(5))
		}},
		{"published", func(d *onion.ServiceDescriptor) { d.Published++ }},
		{"published, negative", func(d *onion.ServiceDescriptor) { d.Published = -d.Published }},
		{"signature of another service", func(d *onion.ServiceDescriptor) { d.Signature = other.Signature }},
		{"signature, first bit", func(d *onion.ServiceDescriptor) { d.Signature = flipBit(d.Signature, 0) }},
		{"signature, last bit", func(d *onion.ServiceDescriptor) { d.Signature = flipBit(d.Signature, 511) }},
		{"signature too short", func(d *onion.ServiceDescriptor) { d.Signature = d.Signature[:63] }},
		{"signature too long", func(d *onion.ServiceDescriptor) { d.Signature = append(d.Signature, 0) }},
		{"no signature", func(d *onion.ServiceDescriptor) { d.Signature = nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := cloneService(base)
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

// TestServiceBadFields: fields wrong in themselves are refused with their
// own error, even when correctly signed.
func TestServiceBadFields(t *testing.T) {
	for _, c := range []struct {
		name     string
		change   func(d *onion.ServiceDescriptor)
		afterSig bool // change after signing (for the service key, which Sign sets)
		want     string
	}{
		{"no meeting points", func(d *onion.ServiceDescriptor) { d.MeetingPoints = nil }, false, "0 meeting points"},
		{"empty meeting points", func(d *onion.ServiceDescriptor) { d.MeetingPoints = []onion.MeetingPoint{} }, false, "0 meeting points"},
		{"9 meeting points", func(d *onion.ServiceDescriptor) {
			for i := len(d.MeetingPoints); i < 9; i++ {
				d.MeetingPoints = append(d.MeetingPoints, testMeetingPoint(i))
			}
		}, false, "9 meeting points"},
		// 256 would wrap the one-byte count in the signed bytes.
		{"256 meeting points", func(d *onion.ServiceDescriptor) {
			for i := len(d.MeetingPoints); i < 256; i++ {
				d.MeetingPoints = append(d.MeetingPoints, testMeetingPoint(i))
			}
		}, false, "256 meeting points"},
		{"duplicate meeting point", func(d *onion.ServiceDescriptor) {
			d.MeetingPoints = append(d.MeetingPoints, d.MeetingPoints[0])
		}, false, "same relay"},
		{"same relay, other nickname", func(d *onion.ServiceDescriptor) {
			m := d.MeetingPoints[1]
			m.Nickname, m.Address = "alias", "127.0.0.2:80"
			d.MeetingPoints = append(d.MeetingPoints, m)
		}, false, "meeting points 1 and 2 are the same relay"},
		{"bad nickname", func(d *onion.ServiceDescriptor) { d.MeetingPoints[1].Nickname = "meet one" }, false, "meeting point 1: onion: nickname"},
		{"empty nickname", func(d *onion.ServiceDescriptor) { d.MeetingPoints[0].Nickname = "" }, false, "nickname"},
		{"address without port", func(d *onion.ServiceDescriptor) { d.MeetingPoints[0].Address = "127.0.0.1" }, false, "address"},
		{"address with a 64 KiB port", func(d *onion.ServiceDescriptor) {
			d.MeetingPoints[0].Address = "relay.example:" + strings.Repeat("0", 1<<16) + "9001"
		}, false, "address"},
		{"31-byte identity key", func(d *onion.ServiceDescriptor) { d.MeetingPoints[0].IdentityKey = seqBytes(0, 31) }, false, "32 bytes"},
		{"no onion key", func(d *onion.ServiceDescriptor) { d.MeetingPoints[0].OnionKey = nil }, false, "32 bytes"},
		{"33-byte e2e key", func(d *onion.ServiceDescriptor) { d.E2EKey = seqBytes(0, 33) }, false, "32 bytes"},
		{"no e2e key", func(d *onion.ServiceDescriptor) { d.E2EKey = nil }, false, "32 bytes"},
		{"31-byte service key", func(d *onion.ServiceDescriptor) { d.ServiceKey = d.ServiceKey[:31] }, true, "32 bytes"},
		{"no service key", func(d *onion.ServiceDescriptor) { d.ServiceKey = nil }, true, "32 bytes"},
		{"all-zero service key", func(d *onion.ServiceDescriptor) { d.ServiceKey = make([]byte, 32) }, true, "small-order"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := testService(t, 2, 1700000000)
			if !c.afterSig {
				c.change(&d)
			}
			d.Sign(serviceKey(1))
			if c.afterSig {
				c.change(&d)
			}
			err := d.Check()
			if err == nil || errors.Is(err, onion.ErrSignature) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check = %v, want an error about %q", err, c.want)
			}
			if err := d.CheckFor(d.Address(), time.Unix(d.Published, 0), time.Hour); err == nil && len(d.ServiceKey) == 32 {
				t.Fatal("CheckFor accepted what Check refuses")
			}
		})
	}
}

func TestServiceCheckFor(t *testing.T) {
	now := time.Unix(1800000000, 0)
	const maxAge = 10 * time.Minute
	skew := onion.MaxClockSkew
	d := testService(t, 2, now.Unix())
	addr := d.Address()
	other := testService(t, 2, now.Unix())
	other.Sign(serviceKey(2))
	at := func(pub int64) onion.ServiceDescriptor {
		c := cloneService(d)
		c.Published = pub
		c.Sign(serviceKey(1))
		return c
	}
	forged := cloneService(d)
	forged.Published--
	for _, c := range []struct {
		name string
		d    onion.ServiceDescriptor
		addr string
		want error  // nil: accepted
		msg  string // in the error
	}{
		{"fresh", d, addr, nil, ""},
		{"address in upper case", d, strings.ToUpper(addr), nil, ""},
		{"exactly maxAge old", at(now.Add(-maxAge).Unix()), addr, nil, ""},
		{"MaxClockSkew ahead", at(now.Add(skew).Unix()), addr, nil, ""},
		{"another service's descriptor", other, addr, onion.ErrWrongService, "another onion address"},
		{"stale", at(now.Add(-maxAge - time.Second).Unix()), addr, onion.ErrDescriptorExpired, "before now"},
		{"a year old", at(now.AddDate(-1, 0, 0).Unix()), addr, onion.ErrDescriptorExpired, "2026-"},
		{"from the future", at(now.Add(skew + time.Second).Unix()), addr, onion.ErrDescriptorExpired, "ahead of now"},
		{"published MinInt64", at(math.MinInt64), addr, onion.ErrDescriptorExpired, "Unix seconds"},
		{"published MaxInt64", at(math.MaxInt64), addr, onion.ErrDescriptorExpired, "Unix seconds"},
		{"forged", forged, addr, onion.ErrSignature, ""},
		{"malformed address", d, addr[1:], onion.ErrBadAddress, ""},
		{"address without suffix", d, strings.TrimSuffix(addr, ".onion"), onion.ErrBadAddress, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.d.CheckFor(c.addr, now, maxAge)
			if c.want == nil {
				if err != nil {
					t.Fatalf("CheckFor = %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("CheckFor = %v, want %v mentioning %q", err, c.want, c.msg)
			}
		})
	}
}

// FuzzServiceDescriptor decodes arbitrary JSON and checks it. Nothing
// panics; with sign set the descriptor is re-signed first, so the field
// checks get fuzzed past the signature. Whatever passes Check survives a
// JSON round trip unchanged and names itself by a parseable address.
func FuzzServiceDescriptor(f *testing.F) {
	v := loadServiceVector(f)
	f.Add([]byte(v.Document), false)
	f.Add([]byte(v.Document), true)
	f.Add(mustMarshal(f, testService(f, onion.MaxMeetingPoints, 1)), true)
	f.Add([]byte(`{"meeting_points":[{}]}`), true)
	f.Add([]byte(`{"service_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","meeting_points":[]}`), false)
	f.Add([]byte(`null`), false)
	key := serviceKey(1)
	f.Fuzz(func(t *testing.T, doc []byte, sign bool) {
		var d onion.ServiceDescriptor
		if json.Unmarshal(doc, &d) != nil {
			return
		}
		if sign {
			d.Sign(key)
		}
		if d.Check() != nil {
			return
		}
		var back onion.ServiceDescriptor
		if err := json.Unmarshal(mustMarshal(t, d), &back); err != nil || !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip: %+v, %v\nwant %+v", back, err, d)
		}
		if err := back.Check(); err != nil {
			t.Fatalf("Check after round trip: %v", err)
		}
		pub, err := onion.ParseAddress(d.Address())
		if err != nil || !bytes.Equal(pub, d.ServiceKey) {
			t.Fatalf("ParseAddress(Address()) = %x, %v", pub, err)
		}
		if err := d.CheckFor(d.Address(), time.Unix(d.Published, 0), 0); err != nil && !errors.Is(err, onion.ErrDescriptorExpired) {
			t.Fatalf("CheckFor its own address: %v", err)
		}
	})
}
