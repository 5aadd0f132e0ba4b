package onion_test

import (
	"errors"
	"testing"

	"onion/onion"
)

// TestCheckURLRefusesLocalHosts: a URL reply never names the user's machine
// or network, in any spelling of the host a browser accepts.
func TestCheckURLRefusesLocalHosts(t *testing.T) {
	local := []string{
		// IPv4 literals, the browser's other spellings of them, trailing dot.
		"http://127.0.0.1/", "http://127.0.0.1:8080/x", "http://127.1/", "http://127.0.1/",
		"http://2130706433/", "http://0x7f000001/", "http://0x7f.1/", "http://0177.0.0.1/",
		"http://0x7F.0.0.1/", "http://017700000001/", "http://127.0.0.1./", "http://0/",
		"http://0.0.0.0/", "http://0.1.2.3/", "http://10.1.2.3/", "http://172.16.0.1/",
		"http://172.31.255.255/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
		"http://100.64.0.1/", "http://198.18.0.1/", "http://192.0.0.8/", "http://224.0.0.1/",
		"http://240.0.0.1/", "http://255.255.255.255/", "http://3232235777/", "http://0xc0a80101/",
		"http://0xa9.0xfe.0xa9.0xfe/",
		// IPv6 literals, including IPv4 inside IPv6.
		"http://[::1]/", "http://[::1]:8080/", "http://[0:0:0:0:0:0:0:1]/", "http://[::]/",
		"http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[0:0:0:0:0:ffff:192.168.0.1]/",
		"http://[::127.0.0.1]/", "http://[::ffff:0:127.0.0.1]/", "http://[64:ff9b::7f00:1]/",
		"http://[64:ff9b::a00:1]/", "http://[64:ff9b:1::1]/", "http://[2002:7f00:1::1]/",
		"http://[2002:c0a8:101::1]/", "http://[2001:0:7f00:1::1]/", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
		"http://[fe80::1]/", "http://[FE80::1]/", "http://[fc00::1]/", "http://[fd12:3456::1]/",
		"http://[fec0::1]/", "http://[ff02::1]/",
		// Names only a local resolver answers.
		"http://localhost/", "http://LOCALHOST:8080/", "http://localhost./", "http://a.localhost/",
		"http://printer.local/", "http://db.internal/", "http://nas.home.arpa/", "http://router.lan/",
		"http://localhost.localdomain/", "http://router/", "http://intranet.corp/",
	}
	for _, u := range local {
		if err := onion.CheckURL(u); !errors.Is(err, onion.ErrLocalURL) {
			t.Errorf("CheckURL(%q) = %v, want ErrLocalURL", u, err)
		}
	}
	// Hosts a browser would read differently from Go, or not at all.
	odd := []string{
		"http://127.0.0.1.5/", "http://1.2.3.4.5/", "http://256.0.0.1/", "http://1.2.3.256/",
		"http://08.0.0.1/", "http://a.0x/", "http://4294967296/", "http://99999999999999999999999/",
		"http://a..b/", "http://.a.com/", "http://a.com../", "http://:80/", "http://[fe80::1%25eth0]/",
		"http://%e3%80%82127.0.0.1/", "http://a!b.com/", "http://127.0.0.1\\.a.com/", "http:\\\\127.0.0.1\\",
		"http:127.0.0.1", "http:///127.0.0.1/",
	}
	for _, u := range odd {
		if err := onion.CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) accepted", u)
		}
	}
	public := []string{
		"https://www.torproject.org/", "http://EXAMPLE.com./", "http://8.8.8.8/", "http://134744072/",
		"http://0x8.0x8.0x8.0x8/", "http://1.1/", "http://1.0x/", "http://[2606:4700::1111]/", "http://[::ffff:8.8.8.8]/",
		"http://[2002:808:808::1]/", "http://[64:ff9b::808:808]/", "http://100.128.0.1/", "http://172.32.0.1/",
		"http://a_b.example.org/", "http://127.0.0.1.nip.io/", "http://localhost.example.com/",
		"http://1.2.3.4.example/", "http://example.local.com/",
	}
	for _, u := range public {
		if err := onion.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want it accepted", u, err)
		}
	}
}
