package bench

// The bound fernet sets on one download ("at least 60% of the
// crypto bound that your micro-benchmarks measure in the same run"). Each
// downloaded byte is sealed once at each of three relays and opened three
// times at the proxy; with c cores, one download can go no faster than
// c / (3/seal + 3/open), seal and open being one core's rates for one layer
// of a full data cell. Measured here, in this process, three ways: with
// the code the relays and the proxy run (onion.Sealer and onion.Opener,
// assembly AES-CBC), with the standard library's AES-CBC and HMAC (the
// the reference the target names, same token format), and with fernet-go's API
// (base64 included).

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/fernet/fernet-go"

	"onion/onion"
)

// Each round seals or opens cryptoCells full cells; rounds go on for
// cryptoBudget and at least cryptoMinRounds times; the rate is the median.
const (
	cryptoCells     = 32
	cryptoMinRounds = 10
	cryptoBudget    = 250 * time.Millisecond
)

// layerImpl seals and opens one layer of a cell body.
type layerImpl struct {
	name string
	// round seals cryptoCells tokens of body and opens them, and returns
	// how long each half took.
	round func(body []byte) (seal, open time.Duration, err error)
}

func layerImpls(key fernet.Key) []layerImpl {
	return []layerImpl{
		{"onion", func(body []byte) (time.Duration, time.Duration, error) {
			s, o := onion.NewSealer(key), onion.NewOpener(key) // sequence numbers from 0
			toks := make([][]byte, cryptoCells)
			t0 := time.Now()
			for i := range toks {
				var err error
				if toks[i], err = s.Seal(onion.KindMessage, body); err != nil {
					return 0, 0, err
				}
			}
			t1 := time.Now()
			for _, tok := range toks {
				if _, _, err := o.OpenInPlace(tok); err != nil {
					return 0, 0, err
				}
			}
			t2 := time.Now()
			for _, tok := range toks {
				onion.Recycle(tok)
			}
			return t1.Sub(t0), t2.Sub(t1), nil
		}},
		{"stdlib", stdlibRound(key)},
		{"fernet-go", func(body []byte) (time.Duration, time.Duration, error) {
			toks := make([][]byte, cryptoCells)
			t0 := time.Now()
			for i := range toks {
				var err error
				if toks[i], err = fernet.EncryptAndSign(body, &key); err != nil {
					return 0, 0, err
				}
			}
			t1 := time.Now()
			keys := []*fernet.Key{&key}
			for _, tok := range toks {
				if fernet.VerifyAndDecrypt(tok, 0, keys) == nil {
					return 0, 0, errors.New("fernet-go refused its own token")
				}
			}
			return t1.Sub(t0), time.Since(t1), nil
		}},
	}
}

// stdlibRound is fernet's raw token with crypto/aes, crypto/cipher's CBC
// and crypto/hmac: what onion's layer did before its assembly cipher.
func stdlibRound(key fernet.Key) func(body []byte) (time.Duration, time.Duration, error) {
	block, _ := aes.NewCipher(key[16:])
	mac := hmac.New(sha256.New, key[:16])
	return func(body []byte) (time.Duration, time.Duration, error) {
		padded := (len(body)/aes.BlockSize + 1) * aes.BlockSize
		toks := make([][]byte, cryptoCells)
		t0 := time.Now()
		for i := range toks {
			tok := make([]byte, 1+8+aes.BlockSize+padded+sha256.Size)
			tok[0] = 0x80
			iv := tok[9 : 9+aes.BlockSize]
			rand.Read(iv)
			ct := tok[9+aes.BlockSize : 9+aes.BlockSize+padded]
			copy(ct, body)
			for j := len(body); j < padded; j++ {
				ct[j] = byte(padded - len(body))
			}
			cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, ct)
			mac.Reset()
			mac.Write(tok[:len(tok)-sha256.Size])
			mac.Sum(tok[:len(tok)-sha256.Size])
			toks[i] = tok
		}
		t1 := time.Now()
		var sum [sha256.Size]byte
		for _, tok := range toks {
			end := len(tok) - sha256.Size
			mac.Reset()
			mac.Write(tok[:end])
			if !hmac.Equal(mac.Sum(sum[:0]), tok[end:]) {
				return 0, 0, errors.New("stdlib token: bad MAC")
			}
			ct := tok[9+aes.BlockSize : end]
			cipher.NewCBCDecrypter(block, tok[9:9+aes.BlockSize]).CryptBlocks(ct, ct)
		}
		return t1.Sub(t0), time.Since(t1), nil
	}
}

// layerRates measures impl's one-core seal and open rates, in cell bytes
// per second (median over rounds).
func layerRates(impl layerImpl, body []byte) (seal, open float64, err error) {
	var seals, opens []float64
	n := float64(cryptoCells * len(body))
	start := time.Now()
	for round := 0; round < cryptoMinRounds || time.Since(start) < cryptoBudget; round++ {
		s, o, err := impl.round(body)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", impl.name, err)
		}
		seals = append(seals, n/s.Seconds())
		opens = append(opens, n/o.Seconds())
	}
	return median(seals), median(opens), nil
}

// downloadBound is the crypto bound on one download over cores cores.
func downloadBound(seal, open float64, cores int) float64 {
	return float64(cores) / (3/seal + 3/open)
}

// cryptoBound adds each implementation's rates and bound, and the
// one-stream download's share of each bound; the layer rates go in a note.
func (r *runner) cryptoBound(context.Context) {
	cores := runtime.NumCPU()
	var key fernet.Key
	rand.Read(key[:])
	body := make([]byte, onion.RelayHeaderLen+onion.MaxData)
	rand.Read(body)
	dl := r.rep.Figures["download_1"]
	for _, impl := range layerImpls(key) {
		fBound := r.rep.add("crypto_bound_"+impl.name, fmt.Sprintf("crypto bound on one download, %s layer: %d cores / (3 seals + 3 opens per byte)", impl.name, cores), unitBytesPerSec)
		fShare := r.rep.add("download_1_of_bound_"+impl.name, fmt.Sprintf("download, 1 stream, as a share of the %s bound", impl.name), unitRatio)
		seal, open, err := layerRates(impl, body)
		if err != nil {
			r.record(fBound, err)
			continue
		}
		bound := downloadBound(seal, open, cores)
		fBound.setSamples([]float64{bound}, false)
		if dl != nil && dl.Value != nil {
			fShare.setSamples([]float64{*dl.Value / bound}, false)
		}
		r.rep.note(fmt.Sprintf("%s layer (%s), one 16 KiB cell on one core, in this process: seal %s MB/s, open %s MB/s",
			impl.name, layerWhat[impl.name], sig3(seal/1e6), sig3(open/1e6)))
	}
}

var layerWhat = map[string]string{
	"onion":     "what the relays and proxy run: assembly AES-CBC, HMAC-SHA256",
	"stdlib":    "crypto/cipher AES-CBC and crypto/hmac, same raw token",
	"fernet-go": "fernet-go's EncryptAndSign and VerifyAndDecrypt, base64 included",
}
