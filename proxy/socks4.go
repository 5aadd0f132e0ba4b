package proxy

// SOCKS4 and SOCKS4a (PROTOCOL.md §8.1), CONNECT only, as Tor accepts them:
// SOCKS4a carries the hostname to the exit; plain SOCKS4 carries an IPv4
// address the application resolved itself, which is served with a warning
// (its DNS query went out in the clear). The USERID isolates like a SOCKS5
// username. A port with accounts (--socks-auth) refuses SOCKS4: it has no
// password.
//
//	request: VN=4 CD=1 DSTPORT(2) DSTIP(4) USERID NUL [HOST NUL]   (4a: DSTIP 0.0.0.x, x != 0)
//	reply:   VN=0 CD(0x5A granted | 0x5B rejected) DSTPORT(2) DSTIP(4)

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"onion/client"
)

const (
	socks4Connect  = 0x01
	socks4Granted  = 0x5A
	socks4Rejected = 0x5B
	socks4HdrLen   = 8   // VN CD DSTPORT DSTIP
	socks4MaxField = 255 // USERID and HOST, each before its NUL
)

// readSOCKS4 reads a SOCKS4(a) CONNECT into a DialRequest. hostIsIP tells
// a plain SOCKS4 request (the application resolved the name).
func readSOCKS4(br *bufio.Reader) (req client.DialRequest, hostIsIP bool, err error) {
	var hdr [socks4HdrLen]byte
	for i := range hdr { // one byte at a time: what follows is early data
		if hdr[i], err = br.ReadByte(); err != nil {
			return req, false, err
		}
	}
	if hdr[0] != socks4Version || hdr[1] != socks4Connect {
		return req, false, fmt.Errorf("SOCKS4 command %d not supported", hdr[1])
	}
	req.Port = binary.BigEndian.Uint16(hdr[2:4])
	if req.Username, err = readNulString(br); err != nil {
		return req, false, fmt.Errorf("SOCKS4 USERID: %w", err)
	}
	ip := net.IP(hdr[4:8])
	if ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0 { // SOCKS4a
		if req.Host, err = readNulString(br); err != nil {
			return req, false, fmt.Errorf("SOCKS4a HOST: %w", err)
		}
	} else {
		req.Host, hostIsIP = ip.String(), true
	}
	if req.Host == "" || req.Port == 0 {
		return req, false, errors.New("SOCKS4 request without host or port")
	}
	return req, hostIsIP, nil
}

// readNulString reads up to a NUL, at most socks4MaxField bytes.
func readNulString(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			return "", err
		}
		if c == 0 {
			return string(b), nil
		}
		if len(b) == socks4MaxField {
			return "", fmt.Errorf("longer than %d bytes", socks4MaxField)
		}
		b = append(b, c)
	}
}

// serveSOCKS4 serves one SOCKS4(a) client: read, open, reply, splice.
func (c *socksConn) serveSOCKS4() {
	req, hostIsIP, err := readSOCKS4(c.br)
	if err == nil && c.srv.Users != nil {
		err = errors.New("SOCKS4 on a port that requires an account (SOCKS4 has no password)")
	}
	if err != nil {
		c.srv.log.Info("SOCKS4 request refused", "err", err)
		c.answerAndClose(socks4Reply(socks4Rejected))
		return
	}
	if hostIsIP {
		c.srv.log.Warn("SOCKS4 request with an IP address: the application resolved the name itself, " +
			"outside the network; use SOCKS4a or socks5h")
	}
	c.req = req
	s, err := c.open()
	if err != nil {
		c.srv.log.Info("SOCKS4 request failed", "reply", replyFor(err))
		c.Conn.Write(socks4Reply(socks4Rejected))
		return
	}
	if _, err := c.Conn.Write(socks4Reply(socks4Granted)); err != nil {
		return
	}
	splice(c, s)
}

// socks4Reply is a reply with DSTPORT and DSTIP zero.
func socks4Reply(code byte) []byte { return []byte{0, code, 0, 0, 0, 0, 0, 0} }
