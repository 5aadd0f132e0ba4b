package proxy

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"onion/client"
)

func TestSOCKS4a(t *testing.T) {
	d := socksEchoDialer(t)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	c := socksDialRaw(t, ts.addr)
	// SOCKS4a CONNECT example.test:80, user "u", with early data behind it.
	socksWrite(t, c, []byte("\x04\x01\x00\x50\x00\x00\x00\x01u\x00example.test\x00hi"))
	if got, want := socksRead(t, c, 8), []byte{0, 0x5a, 0, 0, 0, 0, 0, 0}; !bytes.Equal(got, want) {
		t.Fatalf("reply %x, want %x", got, want)
	}
	socksWrite(t, c, []byte(" there"))
	c.CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hi there" {
		t.Fatalf("echo %q, %v", got, err)
	}
	want := client.DialRequest{Host: "example.test", Port: 80, Username: "u", Early: []byte("hi")}
	if r := d.last(t); !reflect.DeepEqual(r, want) {
		t.Errorf("request %+v, want %+v", r, want)
	}
	if strings.Contains(ts.logs.String(), "resolved the name itself") {
		t.Error("SOCKS4a warned about local resolution")
	}
}

func TestSOCKS4IPWarns(t *testing.T) {
	d := socksEchoDialer(t)
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})
	c := socksDialRaw(t, ts.addr)
	socksWrite(t, c, []byte("\x04\x01\x01\xbb\xc0\x00\x02\x07\x00"))
	if got := socksRead(t, c, 8); got[1] != 0x5a {
		t.Fatalf("reply %x, want granted", got)
	}
	if r := d.last(t); r.Host != "192.0.2.7" || r.Port != 443 {
		t.Errorf("request %+v", r)
	}
	if !strings.Contains(ts.logs.String(), "resolved the name itself") {
		t.Errorf("no warning for SOCKS4 with an IP:\n%s", ts.logs)
	}
}

func TestSOCKS4Refused(t *testing.T) {
	for _, tc := range []struct {
		name string
		srv  *SOCKSServer
		req  string
	}{
		{"bind", &SOCKSServer{}, "\x04\x02\x00\x50\x00\x00\x00\x01\x00example.test\x00"},
		{"port 0", &SOCKSServer{}, "\x04\x01\x00\x00\x00\x00\x00\x01\x00example.test\x00"},
		{"long user", &SOCKSServer{}, "\x04\x01\x00\x50\x00\x00\x00\x01" + strings.Repeat("u", 300) + "\x00h\x00"},
		{"accounts", &SOCKSServer{Users: &SOCKSUsers{}}, "\x04\x01\x00\x50\x00\x00\x00\x01u\x00example.test\x00"},
		{"failed", &SOCKSServer{Dialer: socksFailDialer(&client.OpenError{Reason: 3})}, "\x04\x01\x00\x50\x00\x00\x00\x01u\x00example.test\x00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := socksEchoDialer(t)
			if tc.srv.Dialer == nil {
				tc.srv.Dialer = d
			}
			ts := startSOCKS(t, tc.srv)
			c := socksDialRaw(t, ts.addr)
			socksWrite(t, c, []byte(tc.req))
			got, _ := io.ReadAll(c)
			if want := []byte{0, 0x5b, 0, 0, 0, 0, 0, 0}; !bytes.Equal(got, want) {
				t.Errorf("answer %x, want %x", got, want)
			}
			if tc.name != "failed" && len(d.requests()) != 0 {
				t.Error("refused request reached DialStream")
			}
		})
	}
}
