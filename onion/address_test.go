package onion_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha3"
	"encoding/base32"
	"errors"
	"math/big"
	"strings"
	"testing"

	"onion/onion"
)

type addressVectors struct {
	Format string `json:"format"`
	Valid  []struct {
		Name      string   `json:"name"`
		Seed      hexBytes `json:"seed"`
		PublicKey hexBytes `json:"public_key"`
		Checksum  hexBytes `json:"checksum"`
		Address   string   `json:"address"`
	} `json:"valid"`
	Invalid []struct {
		Name  string `json:"name"`
		Input string `json:"input"`
		Error string `json:"error"`
	} `json:"invalid"`
}

func loadAddressVectors(tb testing.TB) addressVectors {
	var v addressVectors
	readVectors(tb, "address.json", &v)
	return v
}

// refAddress is the address layout written out from the specification.
func refAddress(pub []byte, version byte) (addr string, checksum []byte) {
	sum := sha3.Sum256(append(append([]byte("onion-address-checksum"), pub...), version))
	raw := append(append(append([]byte{}, pub...), sum[:2]...), version)
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	return strings.ToLower(enc) + ".onion", sum[:2]
}

func TestAddressVectors(t *testing.T) {
	for _, v := range loadAddressVectors(t).Valid {
		t.Run(v.Name, func(t *testing.T) {
			pub := ed25519.NewKeyFromSeed(v.Seed).Public().(ed25519.PublicKey)
			if !bytes.Equal(pub, v.PublicKey) {
				t.Fatalf("public key of the seed %x, vector %x", pub, v.PublicKey)
			}
			if ref, sum := refAddress(pub, 1); ref != v.Address || !bytes.Equal(sum, v.Checksum) {
				t.Fatalf("reference %s (checksum %x), vector %s (%x)", ref, sum, v.Address, v.Checksum)
			}
			if got := onion.EncodeAddress(pub); got != v.Address {
				t.Fatalf("EncodeAddress = %s, want %s", got, v.Address)
			}
			if len(v.Address) != onion.AddressLen || onion.AddressLen != 62 {
				t.Fatalf("address of %d characters, AddressLen %d", len(v.Address), onion.AddressLen)
			}
			label := strings.TrimSuffix(v.Address, ".onion")
			for _, in := range []string{v.Address, strings.ToUpper(v.Address), label + ".ONION", strings.ToUpper(label) + ".onion"} {
				got, err := onion.ParseAddress(in)
				if err != nil || !bytes.Equal(got, pub) {
					t.Errorf("ParseAddress(%s) = %x, %v", in, got, err)
				}
			}
		})
	}
}

func TestParseAddressInvalid(t *testing.T) {
	for _, v := range loadAddressVectors(t).Invalid {
		t.Run(v.Name, func(t *testing.T) {
			got, err := onion.ParseAddress(v.Input)
			if !errors.Is(err, onion.ErrBadAddress) || !strings.Contains(err.Error(), v.Error) {
				t.Fatalf("ParseAddress = %x, %v; want ErrBadAddress saying %q", got, err, v.Error)
			}
			// Addresses are for debug logs only; the error may end up anywhere.
			if len(v.Input) > 10 && strings.Contains(strings.ToLower(err.Error()), strings.ToLower(v.Input[:10])) {
				t.Errorf("error %q repeats the address", err)
			}
		})
	}
}

// TestAddressTypos: every one-character substitution in the pinned address
// is refused (the version character excepted, which another test covers).
func TestAddressTypos(t *testing.T) {
	a := loadAddressVectors(t).Valid[0].Address
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	for i := range 56 {
		for _, c := range alphabet {
			if byte(c) == a[i] {
				continue
			}
			typo := a[:i] + string(c) + a[i+1:]
			if _, err := onion.ParseAddress(typo); !errors.Is(err, onion.ErrBadAddress) {
				t.Errorf("typo %q at %d: ParseAddress = %v, want ErrBadAddress", c, i, err)
			}
		}
	}
}

func TestEncodeAddressPanicsOnBadKey(t *testing.T) {
	for _, n := range []int{0, 31, 33, 64} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("EncodeAddress of %d bytes did not panic", n)
				}
			}()
			onion.EncodeAddress(make([]byte, n))
		}()
	}
}

func TestIsOnionHost(t *testing.T) {
	a := loadAddressVectors(t).Valid[0].Address
	for host, want := range map[string]bool{
		a:                          true,
		strings.ToUpper(a):         true,
		a + ".":                    true, // a fully qualified name is still an onion host
		"www." + a:                 true,
		"typo.onion":               true, // refused later by ParseAddress, never sent to an exit
		".onion":                   true,
		"x.OnIoN":                  true,
		"":                         false,
		"onion":                    false,
		"example.com":              false,
		"onion.example.com":        false,
		"example.onion.com":        false,
		"example.onio":             false,
		"127.0.0.1":                false,
		"x.onion..":                false,
		"x.oni\u212Fn":             false, // U+212F, not an ASCII letter
		strings.TrimSuffix(a, "n"): false,
	} {
		if got := onion.IsOnionHost(host); got != want {
			t.Errorf("IsOnionHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestSmallOrderKeysRefused computes the eight points of small order on
// edwards25519 from the curve equation, and checks that every encoding of
// each (both signs of x, and y+p where that fits) is refused as a service
// key: anyone could sign for such a key.
func TestSmallOrderKeysRefused(t *testing.T) {
	encodings := smallOrderEncodings(t)
	if len(encodings) != 14 {
		t.Fatalf("found %d encodings of small-order points, want 14", len(encodings))
	}
	for _, k := range encodings {
		addr, _ := refAddress(k, 1)
		if _, err := onion.ParseAddress(addr); !errors.Is(err, onion.ErrBadAddress) || !strings.Contains(err.Error(), "small-order") {
			t.Errorf("key %x: ParseAddress = %v, want a small-order refusal", k, err)
		}
		d := testService(t, 1, 1700000000)
		d.ServiceKey = k
		if err := d.Check(); err == nil || !strings.Contains(err.Error(), "small-order") {
			t.Errorf("key %x: descriptor Check = %v, want a small-order refusal", k, err)
		}
	}
}

// edwards25519 with math/big, for TestSmallOrderKeysRefused only.
var (
	edP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	edD = func() *big.Int {
		d := new(big.Int).ModInverse(big.NewInt(121666), edP)
		d.Mul(d, big.NewInt(-121665))
		return d.Mod(d, edP)
	}()
	edL, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
)

type edPoint struct{ x, y *big.Int }

func edAdd(a, b edPoint) edPoint {
	mod := func(v *big.Int) *big.Int { return v.Mod(v, edP) }
	t := mod(new(big.Int).Mul(new(big.Int).Mul(a.x, b.x), new(big.Int).Mul(a.y, b.y)))
	t = mod(t.Mul(t, edD))
	xn := mod(new(big.Int).Add(new(big.Int).Mul(a.x, b.y), new(big.Int).Mul(b.x, a.y)))
	yn := mod(new(big.Int).Add(new(big.Int).Mul(a.y, b.y), new(big.Int).Mul(a.x, b.x)))
	xd := new(big.Int).ModInverse(mod(new(big.Int).Add(big.NewInt(1), t)), edP)
	yd := new(big.Int).ModInverse(mod(new(big.Int).Sub(big.NewInt(1), t)), edP)
	return edPoint{mod(xn.Mul(xn, xd)), mod(yn.Mul(yn, yd))}
}

func edMul(k *big.Int, p edPoint) edPoint {
	r := edPoint{big.NewInt(0), big.NewInt(1)}
	for i := k.BitLen() - 1; i >= 0; i-- {
		r = edAdd(r, r)
		if k.Bit(i) == 1 {
			r = edAdd(r, p)
		}
	}
	return r
}

// smallOrderEncodings multiplies curve points by the prime order L, which
// leaves their small-order component, until all eight have turned up.
func smallOrderEncodings(t *testing.T) [][]byte {
	t.Helper()
	seen := map[string]*big.Int{} // y of each small-order point, by x:y
	for y0 := int64(2); len(seen) < 8 && y0 < 1000; y0++ {
		y := big.NewInt(y0)
		y2 := new(big.Int).Mul(y, y)
		num := new(big.Int).Sub(y2, big.NewInt(1))
		den := new(big.Int).ModInverse(new(big.Int).Mod(new(big.Int).Add(new(big.Int).Mul(edD, y2), big.NewInt(1)), edP), edP)
		x := new(big.Int).ModSqrt(new(big.Int).Mod(num.Mul(num, den), edP), edP)
		if x == nil {
			continue // no point with this y
		}
		q := edMul(edL, edPoint{x, y})
		seen[q.x.String()+":"+q.y.String()] = q.y
	}
	ys := map[string]*big.Int{}
	for _, y := range seen {
		ys[y.String()] = y
		if alt := new(big.Int).Add(y, edP); alt.BitLen() <= 255 {
			ys[alt.String()] = alt // a non-canonical encoding of the same y
		}
	}
	var out [][]byte
	for _, y := range ys {
		le := make([]byte, 32)
		y.FillBytes(le)
		for i := range 16 {
			le[i], le[31-i] = le[31-i], le[i]
		}
		signed := bytes.Clone(le)
		signed[31] |= 0x80
		out = append(out, le, signed)
	}
	return out
}

// FuzzParseAddress: no input panics ParseAddress; every refusal is
// ErrBadAddress; whatever parses is an onion host whose key re-encodes to
// the input in lower case.
func FuzzParseAddress(f *testing.F) {
	v := loadAddressVectors(f)
	for _, a := range v.Valid {
		f.Add(a.Address)
		f.Add(strings.ToUpper(a.Address))
	}
	for _, a := range v.Invalid {
		f.Add(a.Input)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := onion.ParseAddress(s)
		if err != nil {
			if !errors.Is(err, onion.ErrBadAddress) {
				t.Fatalf("ParseAddress(%q) = %v, not ErrBadAddress", s, err)
			}
			return
		}
		if !onion.IsOnionHost(s) {
			t.Fatalf("ParseAddress(%q) succeeded but IsOnionHost is false", s)
		}
		if got := onion.EncodeAddress(pub); got != strings.ToLower(s) {
			t.Fatalf("ParseAddress(%q) = %x, which encodes to %q", s, pub, got)
		}
	})
}
