package proxy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"onion/client"
)

// TestSOCKSCurl drives the proxy with the real curl, the client the README
// tells users to run.
func TestSOCKSCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s%s", r.Host, r.URL.Path)
	}))
	t.Cleanup(web.Close)
	d := &socksFakeDialer{open: func(ctx context.Context, _ client.DialRequest) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "tcp", web.Listener.Addr().String())
	}}
	ts := startSOCKS(t, &SOCKSServer{Dialer: d})

	run := func(args ...string) string {
		t.Helper()
		// -q: ignore ~/.curlrc; the explicit proxy overrides *_proxy variables.
		out, err := exec.Command(curl, append([]string{"-q", "-sS", "--max-time", "10"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	out := run("--socks5-hostname", ts.addr, "--proxy-user", "alice:s3cret", "http://no-such-host.invalid/path")
	if want := "hello no-such-host.invalid/path"; out != want {
		t.Errorf("curl got %q, want %q", out, want)
	}
	want := client.DialRequest{Host: "no-such-host.invalid", Port: 80, Username: "alice", Password: "s3cret"}
	if got := d.last(t); !reflect.DeepEqual(got, want) {
		t.Errorf("client.DialRequest = %+v, want %+v", got, want)
	}

	run("-x", "socks5h://"+ts.addr, "http://site.test:8080/")
	if got, want := d.last(t), (client.DialRequest{Host: "site.test", Port: 8080}); !reflect.DeepEqual(got, want) {
		t.Errorf("client.DialRequest = %+v, want %+v", got, want)
	}

	// Used as an HTTP proxy by mistake: the 501 page says what to do.
	out = run("-x", "http://"+ts.addr, "http://site.test/")
	if !strings.Contains(out, "--socks5-hostname "+ts.addr) {
		t.Errorf("curl via HTTP proxy got %q, want the SOCKS5 hint", out)
	}
}
