package proxy

import (
	"bytes"
	"io"
	"testing"

	socks5 "github.com/armon/go-socks5"
)

// FuzzSOCKSGreeting feeds arbitrary bytes to the parts of the SOCKS5
// handshake that are ours (the greeting read and reordered before
// go-socks5 sees it, and the RFC 1929 username/password exchange): no
// panic, bounded reads, and the reordering keeps the method set.
func FuzzSOCKSGreeting(f *testing.F) {
	f.Add([]byte{5, 2, 0, 2, 1, 5, 'a', 'l', 'i', 'c', 'e', 2, 'p', 'w'})
	f.Add([]byte{5, 1, 0})
	f.Add([]byte{4, 1, 0, 80})
	f.Add([]byte{5, 255})
	f.Add([]byte{5, 3, 2, 2, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		g, err := readGreeting(r)
		if err == nil {
			if len(g) > 257 || g[0] != 5 || len(g) != 2+int(g[1]) {
				t.Fatalf("greeting %x", g)
			}
			methods := append([]byte(nil), g[2:]...)
			preferUserPass(g[2:])
			if bytes.IndexByte(methods, socks5.UserPassAuth) >= 0 && g[2] != socks5.UserPassAuth {
				t.Fatalf("user/pass offered but not first: %x", g[2:])
			}
			if !sameMultiset(methods, g[2:]) {
				t.Fatalf("reordering changed the methods: %x -> %x", methods, g[2:])
			}
		}
		ctx, err := userPassAuth{}.Authenticate(r, io.Discard)
		if err == nil && (len(ctx.Payload[payloadUsername]) > 255 || len(ctx.Payload[payloadPassword]) > 255) {
			t.Fatal("field longer than its length byte allows")
		}
	})
}

func sameMultiset(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var n [256]int
	for i := range a {
		n[a[i]]++
		n[b[i]]--
	}
	for _, c := range n {
		if c != 0 {
			return false
		}
	}
	return true
}
