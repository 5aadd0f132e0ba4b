package onion_test

// Micro-benchmarks for the data path (docs/PERFORMANCE.md). Each layer
// benchmark runs beside the same work through fernet-go's own API, so the
// ratio is measured in one invocation.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/fernet/fernet-go"

	"onion/onion"
)

var benchSizes = []int{498, 4096, onion.MaxData}

func benchKey() fernet.Key {
	var k fernet.Key
	copy(k[:], bytes.Repeat([]byte{0x42}, 32))
	return k
}

func BenchmarkSeal(b *testing.B) {
	for _, n := range benchSizes {
		body := make([]byte, n)
		b.Run(fmt.Sprintf("onion/%d", n), func(b *testing.B) {
			s := onion.NewSealer(benchKey())
			b.SetBytes(int64(n))
			for b.Loop() {
				if _, err := s.Seal(onion.KindMessage, body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("fernet-go/%d", n), func(b *testing.B) {
			k := benchKey()
			b.SetBytes(int64(n))
			for b.Loop() {
				tok, err := fernet.EncryptAndSignAtTime(body, &k, time.Unix(0, 0))
				if err != nil {
					b.Fatal(err)
				}
				raw := make([]byte, base64.URLEncoding.DecodedLen(len(tok)))
				base64.URLEncoding.Decode(raw, tok)
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, n := range benchSizes {
		body := make([]byte, n)
		b.Run(fmt.Sprintf("onion/%d", n), func(b *testing.B) {
			// Openers insist on sequence order: seal a batch ahead, untimed.
			var o *onion.Opener
			toks := make([][]byte, 1024)
			next := len(toks)
			b.SetBytes(int64(n))
			for b.Loop() {
				if next == len(toks) {
					b.StopTimer()
					s := onion.NewSealer(benchKey())
					o = onion.NewOpener(benchKey())
					for i := range toks {
						toks[i], _ = s.Seal(onion.KindMessage, body)
					}
					next = 0
					b.StartTimer()
				}
				if _, _, err := o.Open(toks[next]); err != nil {
					b.Fatal(err)
				}
				next++
			}
		})
		b.Run(fmt.Sprintf("fernet-go/%d", n), func(b *testing.B) {
			k := benchKey()
			tok, _ := fernet.EncryptAndSign(body, &k)
			keys := []*fernet.Key{&k}
			raw := make([]byte, base64.URLEncoding.DecodedLen(len(tok)))
			m, _ := base64.URLEncoding.Decode(raw, tok)
			raw = raw[:m]
			b.SetBytes(int64(n))
			for b.Loop() {
				enc := make([]byte, base64.URLEncoding.EncodedLen(len(raw)))
				base64.URLEncoding.Encode(enc, raw)
				if fernet.VerifyAndDecrypt(enc, 0, keys) == nil {
					b.Fatal("open failed")
				}
			}
		})
	}
}

// BenchmarkThreeLayers is what the client does per full cell each way:
// seal three layers, and (separately) what three relays and the client do
// to peel them.
func BenchmarkThreeLayers(b *testing.B) {
	body := make([]byte, onion.MaxData)
	b.SetBytes(int64(len(body)))
	var sealers [3]*onion.Sealer
	var openers [3]*onion.Opener
	for i := range sealers {
		k := benchKey()
		k[0] = byte(i)
		sealers[i], openers[i] = onion.NewSealer(k), onion.NewOpener(k)
	}
	for b.Loop() {
		tok, _ := sealers[2].Seal(onion.KindMessage, body)
		tok, _ = sealers[1].Seal(onion.KindForward, tok)
		tok, _ = sealers[0].Seal(onion.KindForward, tok)
		for i := 0; i < 3; i++ {
			var err error
			if _, tok, err = openers[i].Open(tok); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkHandshake(b *testing.B) {
	onionKey, _ := onion.GenerateOnionKey(bytes.NewReader(bytes.Repeat([]byte{1}, 32)))
	id := bytes.Repeat([]byte{2}, 32)
	keys := onion.RelayKeys{ID: id, OnionKey: onionKey}
	for b.Loop() {
		hs, create, err := onion.NewClientHandshake(nil, id, onionKey.PublicKey().Bytes())
		if err != nil {
			b.Fatal(err)
		}
		created, _, err := onion.ServerHandshake(nil, keys, create)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := hs.Finish(created); err != nil {
			b.Fatal(err)
		}
	}
}
