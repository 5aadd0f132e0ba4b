package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// TestTLSRecordsOnly checks the capture's checker itself, without root:
// both directions of a real TLS 1.3 connection pass, a plain link fails.
func TestTLSRecordsOnly(t *testing.T) {
	toServer, toClient := tlsExchange(t)
	for name, data := range map[string][]byte{"client to server": toServer, "server to client": toClient} {
		if _, err := checkTLSRecords(data, false); err != nil {
			t.Errorf("%s (%d bytes): %v", name, len(data), err)
		}
		if _, err := checkTLSRecords(data[:len(data)-3], true); err != nil {
			t.Errorf("%s cut mid-record: %v", name, err)
		}
	}
	plain := append([]byte("ONION/1\n"), make([]byte, 512)...)
	if _, err := checkTLSRecords(plain, true); err == nil {
		t.Error("a plain link passed as TLS")
	}
	bad := bytes.Clone(toClient)
	bad[0] = 0x17
	bad[2] = 0x01 // version 0x0301 after the first record is refused
	if _, err := checkTLSRecords(bad, true); err == nil {
		t.Error("a record version 0x0301 passed")
	}
}

// tlsExchange runs a TLS 1.3 handshake and a few KiB each way over a pipe
// and returns the bytes each side wrote.
func tlsExchange(t *testing.T) (toServer, toClient []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"relay"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	c, s := net.Pipe()
	var cw, sw bytes.Buffer
	cc := tls.Client(recordingConn{c, &cw}, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	sc := tls.Server(recordingConn{s, &sw}, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	payload := make([]byte, 40<<10)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, len(payload))
		if _, err := io.ReadFull(sc, buf); err == nil {
			sc.Write(buf)
		}
	}()
	if _, err := cc.Write(payload); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(cc, make([]byte, len(payload))); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	c.Close() // not the TLS conns: close_notify would wait for a reader
	s.Close()
	return cw.Bytes(), sw.Bytes()
}

// recordingConn keeps a copy of what is written.
type recordingConn struct {
	net.Conn
	w *bytes.Buffer
}

func (r recordingConn) Write(p []byte) (int, error) {
	r.w.Write(p)
	return r.Conn.Write(p)
}
