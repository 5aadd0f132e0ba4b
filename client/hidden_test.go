package client

// Onion addresses that cannot be dialled fail with the reason the
// application's error code comes from, and without a link or a circuit:
// an onion host is never sent toward an exit.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"

	"onion/onion"
	"onion/onion/oniontest"
)

// lookup is a ServiceDirectory with a fixed answer.
type lookup struct {
	desc onion.ServiceDescriptor
	err  error
}

func (l lookup) Service(context.Context, string) (onion.ServiceDescriptor, error) {
	return l.desc, l.err
}

// TestDialOnionRefusals: a malformed address, no way to look one up, a
// failed lookup, another service's descriptor and a descriptor without
// meeting relays each end in an
// *OpenError, before any link is dialled.
func TestDialOnionRefusals(t *testing.T) {
	pub := oniontest.RelayKeys("service").ID()
	good := onion.EncodeAddress(pub)
	mistyped := []byte(good)
	mistyped[3] ^= 'a' ^ 'b'
	tests := []struct {
		name     string
		host     string
		services ServiceDirectory
		want     onion.EndReason
		wantText string
	}{
		{"not an address", "notanaddress.onion", lookup{}, onion.EndResolve, "onion"},
		{"mistyped", string(mistyped), lookup{}, onion.EndResolve, "checksum"},
		{"no lookup", good, nil, onion.EndUnreachable, "cannot look up onion addresses"},
		{"lookup fails", good, lookup{err: errors.New("unknown service")}, onion.EndResolve, "unknown service"},
		{"another service's descriptor", good, lookup{desc: onion.ServiceDescriptor{ServiceKey: oniontest.RelayKeys("other").ID()}}, onion.EndResolve, "another service"},
		{"no meeting relay", good, lookup{desc: onion.ServiceDescriptor{ServiceKey: pub}}, onion.EndUnreachable, "no meeting relay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oniontest.CheckLeaks(t)
			synctest.Test(t, func(t *testing.T) {
				tn := &testNet{net: oniontest.NewMemNet(), relays: descriptors(5, 2), logs: oniontest.NewLogs(t)}
				m := tn.manager(t, newFakeClock(), func(c *Config) {
					if tt.services != nil {
						c.Services = func(*http.Client) ServiceDirectory { return tt.services }
					}
				})
				_, err := m.DialStream(stepContext(t), DialRequest{Host: tt.host, Port: 80})
				oe, ok := errors.AsType[*OpenError](err)
				if !ok || oe.Reason != tt.want || !strings.Contains(err.Error(), tt.wantText) {
					t.Fatalf("DialStream = %v, want OpenError(%v) with %q", err, tt.want, tt.wantText)
				}
				for _, d := range tn.relays {
					if n := tn.net.DialCount(d.Address); n != 0 {
						t.Fatalf("%d dials to %s for an onion address that cannot be reached", n, d.Nickname)
					}
				}
			})
		})
	}
}
