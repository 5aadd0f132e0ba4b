package localnet

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func validConfig() Config {
	return Config{Executable: "/bin/onion", Relays: 5, Exits: 2, Socks: "127.0.0.1:0", Status: "127.0.0.1:0"}
}

func TestCheck(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct {
		name   string
		change func(*Config)
		want   string // "" means valid
	}{
		{"valid", func(*Config) {}, ""},
		{"all relays exits", func(c *Config) { c.Relays, c.Exits = 3, 3 }, ""},
		{"no executable", func(c *Config) { c.Executable = "" }, "no executable"},
		{"two relays", func(c *Config) { c.Relays = 2 }, "--relays 2: a circuit needs 3 distinct relays"},
		{"no exit", func(c *Config) { c.Exits = 0 }, "--exits 0: want 1 to --relays (5)"},
		{"more exits than relays", func(c *Config) { c.Exits = 6 }, "--exits 6: want 1 to --relays (5)"},
		{"no socks", func(c *Config) { c.Socks = "" }, "--socks: need an address (port 0 picks a free one)"},
		{"no status", func(c *Config) { c.Status = "" }, "--status: need an address"},
		{"busy socks", func(c *Config) { c.Socks = busy.Addr().String() }, "--socks " + busy.Addr().String() + " is not usable: "},
		{"busy status", func(c *Config) { c.Status = busy.Addr().String() }, "(is another onion up or proxy running?"},
	} {
		cfg := validConfig()
		c.change(&cfg)
		err := cfg.check()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: check = %v, want nil", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: check = %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func TestWithDefaults(t *testing.T) {
	cfg := Config{StopTimeout: 1}.withDefaults()
	if cfg.ReadyTimeout != DefaultReadyTimeout || cfg.PublishInterval != DefaultPublishInterval ||
		cfg.RelayTTL != DefaultRelayTTL || cfg.StopTimeout != 1 {
		t.Errorf("timings %v %v %v %v", cfg.ReadyTimeout, cfg.PublishInterval, cfg.RelayTTL, cfg.StopTimeout)
	}
	if cfg.Stdout == nil || cfg.Stderr == nil || cfg.Logger == nil {
		t.Error("nil writers or logger left in place")
	}
}

func TestPrepareDataDir(t *testing.T) {
	tmp, err := prepareDataDir("")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if st, err := os.Stat(tmp); err != nil || !st.IsDir() || !filepath.IsAbs(tmp) {
		t.Errorf("temporary data dir %q: %v", tmp, err)
	}

	t.Chdir(t.TempDir())
	got, err := prepareDataDir(filepath.Join("kept", "data"))
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if want := filepath.Join(wd, "kept", "data"); got != want {
		t.Errorf("prepareDataDir = %q, want %q", got, want)
	}
	if st, err := os.Stat(got); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("kept data dir: %v, %v; want mode 0700", st.Mode(), err)
	}
}
