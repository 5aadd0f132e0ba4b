package hiddenserver

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseForward(t *testing.T) {
	lan := []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")}
	good := map[string]string{
		"80=127.0.0.1:8080":       "80=127.0.0.1:8080",
		"22=localhost:22":         "22=127.0.0.1:22",
		"443=[::1]:8443":          "443=[::1]:8443",
		"80=192.168.1.7:80":       "80=192.168.1.7:80",
		"9=unix:/run/app/sock":    "9=unix:/run/app/sock",
		"9=unix:/run/../app.sock": "9=unix:/app.sock",
	}
	for in, want := range good {
		f, err := ParseForward(in, lan)
		if err != nil || f.String() != want {
			t.Errorf("ParseForward(%q) = %v, %v; want %s", in, f, err, want)
		}
	}
	bad := map[string]string{
		"80":                  "VPORT=",
		"0=127.0.0.1:80":      "virtual port",
		"70000=127.0.0.1:80":  "virtual port",
		"80=127.0.0.1":        "HOST:PORT",
		"80=127.0.0.1:0":      "port",
		"80=example.com:80":   "never looked up",
		"80=10.0.0.1:80":      "not on loopback",
		"80=192.168.2.7:80":   "not on loopback",
		"80=unix:relative":    "absolute",
		"80=[fe80::1%eth0]:8": "IP address",
	}
	for in, want := range bad {
		if _, err := ParseForward(in, lan); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseForward(%q) = %v; want an error with %q", in, err, want)
		}
	}
}

func TestLoadPorts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ports")
	os.WriteFile(path, []byte("# web and ssh\n80 127.0.0.1:8080\n\n22  unix:/run/ssh.sock\n"), 0o600)
	fs, err := LoadPorts(path, nil)
	if err != nil || len(fs) != 2 || fs[0].String() != "80=127.0.0.1:8080" || fs[1].String() != "22=unix:/run/ssh.sock" {
		t.Fatalf("LoadPorts = %v, %v", fs, err)
	}
	os.WriteFile(path, []byte("80 127.0.0.1:8080\n80 127.0.0.1:8081\n"), 0o600)
	if _, err := LoadPorts(path, nil); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("a port forwarded twice: %v", err)
	}
	os.WriteFile(path, []byte("80=127.0.0.1:8080\n"), 0o600)
	if _, err := LoadPorts(path, nil); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Fatalf("a bad line: %v", err)
	}
}

func TestParsePrefixes(t *testing.T) {
	ps, err := ParsePrefixes([]string{"10.1.2.3", "192.168.0.0/16"})
	if err != nil || len(ps) != 2 || ps[0].Bits() != 32 {
		t.Fatalf("ParsePrefixes = %v, %v", ps, err)
	}
	if _, err := ParsePrefixes([]string{"lan"}); err == nil {
		t.Fatal("a name taken as a prefix")
	}
}
