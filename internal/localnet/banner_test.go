package localnet

import (
	"bytes"
	"strings"
	"testing"

	"onion/internal/upinfo"
)

func bannerInfo() *upinfo.Info {
	return &upinfo.Info{
		Socks: "127.0.0.1:1080", Status: "127.0.0.1:9000", CircuitsURL: "http://127.0.0.1:9000/circuits",
		Directory: "http://127.0.0.1:7000", DirectoryKey: "KEY", DataDir: "/tmp/onion-up-1", TempDataDir: true,
		Relays: []upinfo.Relay{
			{Nickname: "relay1", Exit: true}, {Nickname: "relay2", Exit: true}, {Nickname: "relay3"},
		},
		OnionAddress: "abc.onion", DemoUser: "demo", DemoPassword: "s3cret",
	}
}

func TestAnnounce(t *testing.T) {
	var out bytes.Buffer
	n := &network{cfg: Config{Stdout: &out}, info: *bannerInfo()}
	n.announce()
	first, rest, _ := strings.Cut(out.String(), "\n")
	if want := "up ready socks=127.0.0.1:1080 status=127.0.0.1:9000 directory=http://127.0.0.1:7000 key=KEY relays=3 onion=abc.onion http_tunnel=off"; first != want {
		t.Errorf("first line\n got %q\nwant %q", first, want)
	}
	for _, want := range []string{
		"a directory, 3 relays, a hidden server and the SOCKS5 proxy",
		"  SOCKS5 proxy   127.0.0.1:1080  (also SOCKS4a and HTTP proxy)\n",
		"  circuits       http://127.0.0.1:9000/circuits\n",
		"  status page    http://127.0.0.1:9000/   (in a terminal: onion status --status 127.0.0.1:9000)\n",
		"  relays         relay1 relay2 relay3 (exits: relay1 relay2)\n",
		"  hidden server  http://abc.onion/\n",
		"  demo login     user demo, password s3cret\n",
		"  data dir       /tmp/onion-up-1 (temporary: removed when up exits; keep one with --data-dir)\n",
		"  curl --socks5-hostname 127.0.0.1:1080 http://example.com/\n",
		"  curl http://127.0.0.1:9000/circuits\n",
		"  curl -x socks5h://demo:s3cret@127.0.0.1:1080 http://abc.onion/echo -d hello\n",
		"  curl -x socks5h://demo:s3cret@127.0.0.1:1080 http://abc.onion/open/tor",
		"Ctrl-C stops the network.\n",
	} {
		if !strings.Contains(rest, want) {
			t.Errorf("banner lacks %q:\n%s", want, rest)
		}
	}
}

func TestBannerKeptDataDir(t *testing.T) {
	i := bannerInfo()
	i.TempDataDir = false
	if b := banner(i); !strings.Contains(b, "  data dir       /tmp/onion-up-1\n") || strings.Contains(b, "temporary") {
		t.Errorf("banner of a kept data dir:\n%s", b)
	}
}
