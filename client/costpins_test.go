package client

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onion/onion"
	"onion/onion/oniontest"
)

// TestCostPinsRefuseLowerCost: once a service proved a login at a cost, a
// challenge from it at a lower cost is refused with an error naming the
// address and both costs; the same or a higher one passes, and a pin
// never goes down. Other services are not affected.
func TestCostPinsRefuseLowerCost(t *testing.T) {
	host := onion.EncodeAddress(oniontest.RelayKeys("service").ID())
	other := onion.EncodeAddress(oniontest.RelayKeys("other").ID())
	p, _ := LoadCostPins("")
	if err := p.Check(host, onion.MinAuthLogN); err != nil {
		t.Fatalf("no pin yet: %v", err)
	}
	if err := p.Pin(host, 16); err != nil {
		t.Fatal(err)
	}
	p.Pin(host, 15) // never lowers the pin
	err := p.Check(host, 15)
	if !errors.Is(err, ErrCostLowered) || !strings.Contains(err.Error(), host) ||
		!strings.Contains(err.Error(), "2^15") || !strings.Contains(err.Error(), "2^16") {
		t.Fatalf("lower cost: %v, want ErrCostLowered naming %s, 2^15 and 2^16", err, host)
	}
	for _, c := range []struct {
		host string
		logN uint8
	}{{host, 16}, {host, 17}, {other, onion.MinAuthLogN}} {
		if err := p.Check(c.host, c.logN); err != nil {
			t.Errorf("%s at 2^%d: %v", c.host, c.logN, err)
		}
	}
}

// TestCostPinsSurviveRestart: pins written to a file (mode 0600) are
// there after a reload; a file others can read, or one that is not a
// pins file, is refused; a missing one holds no pins.
func TestCostPinsSurviveRestart(t *testing.T) {
	host := onion.EncodeAddress(oniontest.RelayKeys("service").ID())
	path := filepath.Join(t.TempDir(), "pins.json")
	p, err := LoadCostPins(path)
	if err != nil {
		t.Fatalf("missing file: %v", err)
	}
	if err := p.Pin(host, 15); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("pins file: %v, %v; want mode 0600", st, err)
	}
	again, err := LoadCostPins(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Check(host, 14); !errors.Is(err, ErrCostLowered) {
		t.Errorf("after a reload, a lower cost: %v", err)
	}

	os.Chmod(path, 0o644)
	if _, err := LoadCostPins(path); err == nil {
		t.Error("loaded a pins file others can read")
	}
	bad := map[string]string{
		"not json":     "{",
		"no version":   `{"scrypt_log_n":{}}`,
		"bad address":  `{"version":1,"scrypt_log_n":{"example.onion":15}}`,
		"cost too low": `{"version":1,"scrypt_log_n":{"` + host + `":10}}`,
	}
	for name, text := range bad {
		path := filepath.Join(t.TempDir(), "pins.json")
		os.WriteFile(path, []byte(text), 0o600)
		if _, err := LoadCostPins(path); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}
