package proxy

// SOCKS5 method negotiation (RFC 1928 §3) and username/password (RFC 1929).
//
// go-socks5 takes the first method in the client's list that it supports,
// and curl offers no-auth before username/password: the credentials, which
// isolate streams, would be lost. So the session reads the greeting itself,
// moves username/password to the front, and replays the greeting to
// go-socks5.

import (
	"fmt"
	"io"

	socks5 "github.com/armon/go-socks5"
)

const (
	socks4Version      = 0x04
	socks5Version      = 0x05
	greetingHeaderLen  = 2 // VER NMETHODS
	userPassVersion    = 0x01
	userPassSuccess    = 0x00
	userPassBadVersion = 0x01 // any non-zero status is a failure

	// Keys of socks5.AuthContext.Payload. "Username" is go-socks5's own.
	payloadUsername = "Username"
	payloadPassword = "Password"
)

// readGreeting reads VER NMETHODS METHODS. NMETHODS is one byte, so the
// greeting is at most 257 bytes.
func readGreeting(r io.Reader) ([]byte, error) {
	var hdr [greetingHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	if hdr[0] != socks5Version {
		return nil, fmt.Errorf("socks version %d", hdr[0])
	}
	g := make([]byte, greetingHeaderLen+int(hdr[1]))
	copy(g, hdr[:])
	if _, err := io.ReadFull(r, g[greetingHeaderLen:]); err != nil {
		return nil, err
	}
	return g, nil
}

// preferUserPass moves username/password, if offered, to the front of
// methods, keeping the others in order.
func preferUserPass(methods []byte) {
	for i, m := range methods {
		if m == socks5.UserPassAuth {
			copy(methods[1:i+1], methods[:i])
			methods[0] = socks5.UserPassAuth
			return
		}
	}
}

// userPassAuth accepts any username and password: they select a circuit
// (stream isolation), they do not grant access. Both are kept in the
// AuthContext for the DialRequest.
type userPassAuth struct{}

func (userPassAuth) GetCode() uint8 { return socks5.UserPassAuth }

func (userPassAuth) Authenticate(r io.Reader, w io.Writer) (*socks5.AuthContext, error) {
	if _, err := w.Write([]byte{socks5Version, socks5.UserPassAuth}); err != nil {
		return nil, err
	}
	var hdr [2]byte // VER ULEN
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	if hdr[0] != userPassVersion {
		w.Write([]byte{userPassVersion, userPassBadVersion})
		return nil, fmt.Errorf("username/password version %d", hdr[0])
	}
	user, err := readAuthField(r, int(hdr[1]))
	if err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(r, hdr[:1]); err != nil { // PLEN
		return nil, err
	}
	pass, err := readAuthField(r, int(hdr[0]))
	if err != nil {
		return nil, err
	}
	if _, err := w.Write([]byte{userPassVersion, userPassSuccess}); err != nil {
		return nil, err
	}
	return &socks5.AuthContext{
		Method:  socks5.UserPassAuth,
		Payload: map[string]string{payloadUsername: user, payloadPassword: pass},
	}, nil
}

// readAuthField reads n bytes; n came from one length byte, so it is at most 255.
func readAuthField(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("username/password: %w", err)
	}
	return string(b), nil
}
