package linktls

// A relay's certificate: self-signed, its key the relay's identity key.
// Nothing else in it matters to a dialer (verify.go), so it names no host
// and is made in memory, never stored.

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// Certificate validity. Dialers do not check dates (the identity key is
// what they trust, and a relay leaves the network by leaving the list),
// but a certificate must carry some: a short one, renewed while the relay
// runs, says no more than is needed.
const (
	certLifetime = 48 * time.Hour
	certRenew    = 24 * time.Hour // a certificate older than this is replaced
	certBackdate = time.Hour      // for peers whose clocks run behind
)

// certSource makes the relay's certificate and renews it when old.
type certSource struct {
	key ed25519.PrivateKey
	now func() time.Time

	mu   sync.Mutex
	cert *tls.Certificate
	made time.Time
}

func (s *certSource) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.cert != nil && now.Sub(s.made) < certRenew && !now.Before(s.made) {
		return s.cert, nil
	}
	c, err := selfSigned(s.key, now)
	if err != nil {
		return nil, err
	}
	s.cert, s.made = c, now
	return c, nil
}

// selfSigned returns a certificate for key, signed by key, valid from
// now (less certBackdate) for certLifetime.
func selfSigned(key ed25519.PrivateKey, now time.Time) (*tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("linktls: certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "onion relay"},
		NotBefore:    now.Add(-certBackdate),
		NotAfter:     now.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	pub := key.Public().(ed25519.PublicKey)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return nil, fmt.Errorf("linktls: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("linktls: certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
