package directory

import (
	"net/http"
	"testing"

	"onion/onion"
)

// Relay addresses every relay could be made to dial if they were listed:
// its own loopback, its LAN, and names that may point there.
var privateAddresses = []string{
	"127.0.0.1:25", "127.9.9.9:9001", "[::1]:9001", "[::ffff:127.0.0.1]:9001",
	"10.0.0.5:22", "172.16.0.1:9001", "192.168.1.1:80", "[fd00::1]:9001", "100.64.0.1:9001",
	"169.254.169.254:80", "[fe80::1]:9001", "[fe80::1%eth0]:9001",
	"0.0.0.0:9001", "[::]:9001", "224.0.0.1:9001", "255.255.255.255:9001",
	"localhost:9001", "relay.example.com:9001",
}

// TestRelayPrivateAddressRefused: a directory lists relays at public IP
// addresses only; any other address is refused with 400 and a message
// that names the reason and the switch, stored nowhere, and logged.
func TestRelayPrivateAddressRefused(t *testing.T) {
	var cases []refusedCase
	for _, addr := range privateAddresses {
		cases = append(cases, refusedCase{addr, func(t *testing.T) []byte { return mustJSON(t, descriptorAt(t, addr)) },
			http.StatusBadRequest, "public IP addresses only"})
	}
	testRefused(t, relayKind, cases)
}

// TestRelayPrivateAddressAllowed: told to, a directory lists relays at any
// address (a network on one machine or a LAN); public addresses are listed
// either way.
func TestRelayPrivateAddressAllowed(t *testing.T) {
	allow := func(c *Config) { c.AllowPrivateAddresses = true }
	for _, tc := range []struct {
		addrs     []string
		configure []func(*Config)
	}{
		{privateAddresses, []func(*Config){allow}},
		{[]string{"203.0.113.7:9001", "[2001:db8::7]:443", "8.8.8.8:9001"}, nil},
	} {
		for _, addr := range tc.addrs {
			h := newHarness(t, tc.configure...)
			if err := h.client.Publish(t.Context(), descriptorAt(t, addr)); err != nil {
				t.Errorf("%s: %v", addr, err)
				continue
			}
			if l, err := h.client.Relays(t.Context()); err != nil || len(l.Relays) != 1 || l.Relays[0].Address != addr {
				t.Errorf("%s: listed %+v, %v", addr, l.Relays, err)
			}
		}
	}
}

// descriptorAt is relay 1's descriptor with address addr, signed.
func descriptorAt(t testing.TB, addr string) onion.RelayDescriptor {
	d := descriptor(t, 1, t0)
	d.Address = addr
	d.Sign(relayKey(1))
	return d
}
