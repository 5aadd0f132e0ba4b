package localnet

import (
	"slices"
	"strings"
	"testing"
)

func TestColourIndex(t *testing.T) {
	names := []string{"directory", "proxy", "hiddenserver", "relay1", "relay2", "relay9", "relay10"}
	var seen []int
	for _, name := range names {
		i := colourIndex(name)
		if slices.Contains(seen, i) {
			t.Errorf("%s shares colour %d with another part", name, i)
		}
		seen = append(seen, i)
	}
	if !slices.Equal(seen, []int{0, 1, 2, 3, 4, 11, 12}) {
		t.Errorf("colour indices = %v", seen)
	}
}

func TestChildArgs(t *testing.T) {
	n, _ := policyNet(5, 2)
	n.cfg.Executable, n.cfg.LogLevel, n.cfg.DataDir = "/bin/onion", "warn", "/data"
	n.cfg = n.cfg.withDefaults()
	n.info.Directory, n.info.DirectoryKey = "http://127.0.0.1:7000", "KEY"
	exit, middle := n.relayChild(1), n.relayChild(2)
	want := "/bin/onion --log-level warn --log-format plain --log-part relay2 relay --directory http://127.0.0.1:7000 --directory-key KEY --listen 127.0.0.1:0 " +
		"--nickname relay2 --data-dir /data/relay2 --exit-policy accept-all --publish-interval 10s --no-peer-shares --exit"
	if got := strings.Join(exit.Cmd.Args, " "); got != want {
		t.Errorf("exit relay\n got %s\nwant %s", got, want)
	}
	dir := strings.Join(n.directoryChild(0, "127.0.0.1:0").Cmd.Args, " ")
	if want := "/bin/onion --log-level warn --log-format plain --log-part directory directory --listen 127.0.0.1:0 --data-dir /data/directory " +
		"--relay-ttl 30s --allow-private-addresses --max-relays-per-address 5"; dir != want {
		t.Errorf("directory\n got %s\nwant %s", dir, want)
	}
	if slices.Contains(middle.Cmd.Args, "--exit") {
		t.Errorf("relay3 is an exit: %v", middle.Cmd.Args)
	}
	if exit.Prefix != "relay2       | " || exit.ReadyTimeout != DefaultReadyTimeout {
		t.Errorf("prefix %q, ready timeout %v", exit.Prefix, exit.ReadyTimeout)
	}
}

func TestNeed(t *testing.T) {
	ready := map[string]string{"addr": "127.0.0.1:1", "fingerprint": ""}
	if err := need(ready, "relay1", "addr"); err != nil {
		t.Error(err)
	}
	if err := need(ready, "relay1", "addr", "fingerprint"); err == nil || err.Error() != "relay1: ready line has no fingerprint= field" {
		t.Errorf("need = %v", err)
	}
}

// TestChildLogFormat: the parts log in up's format; human lines keep their
// colours on up's colour terminal; json lines go unprefixed.
func TestChildLogFormat(t *testing.T) {
	n, _ := policyNet(5, 2)
	n.cfg.Executable, n.cfg.LogFormat, n.cfg.Colour = "/bin/onion", "human", true
	n.cfg = n.cfg.withDefaults()
	args := strings.Join(n.child("proxy", "proxy").Cmd.Args, " ")
	if !strings.Contains(args, "--log-format human --log-part proxy --log-colour proxy") {
		t.Errorf("human on a colour terminal: %s", args)
	}
	n.cfg.LogFormat = "json"
	c := n.child("relay1", "relay")
	if args := strings.Join(c.Cmd.Args, " "); strings.Contains(args, "--log-colour") || !strings.Contains(args, "--log-format json") || !c.NoPrefix {
		t.Errorf("json: %s, NoPrefix %v", args, c.NoPrefix)
	}
}
