package bench

// The network of `bench --hosts`: a directory, five relays (two exits), the
// destination and the proxy, each on a host of its own, and a client host
// the measurements dial from.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/net/proxy"

	"onion/internal/launch"
	"onion/internal/testhosts"
)

const (
	hostsRelayPort = 9001
	hostsDirPort   = 7000
	hostsSocksPort = 1080
	hostsDestPort  = 8080
	hostsStopWait  = 10 * time.Second
)

type hostsNetwork struct {
	net      *testhosts.Net
	client   *testhosts.Host
	procs    []*launch.Child // in start order; stopped in reverse
	srv      *http.Server
	dataDir  string
	socks    string // the proxy's SOCKS address, on its host
	destHTTP string // the destination's HTTP address, on its host
}

// startHostsNetwork builds the hosts and starts every part; on error what
// it started is already stopped.
func startHostsNetwork(ctx context.Context, exe string) (hn *hostsNetwork, err error) {
	if exe == "" {
		return nil, errors.New("bench --hosts: cannot find the onion executable")
	}
	hn = &hostsNetwork{}
	if hn.net, err = testhosts.Create(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			hn.close()
			hn = nil
		}
	}()
	if hn.dataDir, err = os.MkdirTemp("", "onion-bench-hosts-"); err != nil {
		return hn, err
	}
	dirHost, err := hn.net.Add("dir")
	if err != nil {
		return hn, err
	}
	ready, err := hn.start(ctx, dirHost, exe, "directory", "--allow-private-addresses",
		"--listen", dirHost.AddrPort(hostsDirPort), "--data-dir", hn.path("directory"))
	if err != nil {
		return hn, err
	}
	dirFlags := []string{"--directory", "http://" + dirHost.AddrPort(hostsDirPort), "--directory-key", ready["key"]}
	if err := hn.startRelays(ctx, exe, dirFlags); err != nil {
		return hn, err
	}
	if err := hn.startDest(); err != nil {
		return hn, err
	}
	proxyHost, err := hn.net.Add("proxy")
	if err != nil {
		return hn, err
	}
	ready, err = hn.start(ctx, proxyHost, exe, append([]string{"proxy", "--socks", proxyHost.AddrPort(hostsSocksPort), "--status", ""}, dirFlags...)...)
	if err != nil {
		return hn, err
	}
	hn.socks = ready["socks"]
	hn.client, err = hn.net.Add("client")
	return hn, err
}

func (hn *hostsNetwork) startRelays(ctx context.Context, exe string, dirFlags []string) error {
	for i := 1; i <= hostsRelays; i++ {
		name := fmt.Sprintf("relay%d", i)
		h, err := hn.net.Add(name)
		if err != nil {
			return err
		}
		addr := h.AddrPort(hostsRelayPort)
		args := append([]string{"relay", "--listen", addr, "--address", addr, "--nickname", name,
			"--data-dir", hn.path(name), "--exit-policy", "accept-all"}, dirFlags...)
		if i > hostsRelays-hostsExits {
			args = append(args, "--exit")
		}
		if _, err := hn.start(ctx, h, exe, args...); err != nil {
			return err
		}
	}
	return nil
}

// startDest serves /tiny and /blob/N, as dest does on loopback, from a
// listener on the destination host.
func (hn *hostsNetwork) startDest() error {
	h, err := hn.net.Add("dest")
	if err != nil {
		return err
	}
	ln, err := h.Listen("tcp", h.AddrPort(hostsDestPort))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tiny", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, tinyBody) })
	mux.HandleFunc("GET /blob/{n}", serveBlob)
	hn.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hn.srv.Serve(ln)
	hn.destHTTP = ln.Addr().String()
	return nil
}

// start runs `exe args...` on host h and waits for its ready line.
func (hn *hostsNetwork) start(ctx context.Context, h *testhosts.Host, exe string, args ...string) (map[string]string, error) {
	c := launch.New(h.Name, "ip")
	c.Cmd = h.Command(exe, args...)
	c.Output = io.Discard // its last lines come with a start error
	hn.procs = append(hn.procs, c)
	return c.Start(ctx)
}

func (hn *hostsNetwork) path(name string) string { return filepath.Join(hn.dataDir, name) }

// onionDialer dials through the proxy from the client host, as user.
func (hn *hostsNetwork) onionDialer(user string) proxy.ContextDialer {
	d, err := proxy.SOCKS5("tcp", hn.socks, &proxy.Auth{User: user, Password: "x"}, hostDialer{hn.client})
	if err != nil {
		panic("bench: " + err.Error()) // only for a network other than tcp
	}
	return d.(proxy.ContextDialer)
}

// close stops the processes in reverse order, the server, and removes the
// hosts and the data.
func (hn *hostsNetwork) close() error {
	if hn == nil {
		return nil
	}
	var errs []error
	for i := len(hn.procs) - 1; i >= 0; i-- {
		if hn.procs[i].Pid() != 0 {
			errs = append(errs, hn.procs[i].Stop(hostsStopWait))
		}
	}
	if hn.srv != nil {
		errs = append(errs, hn.srv.Close())
	}
	if hn.net != nil {
		errs = append(errs, hn.net.Close())
	}
	if hn.dataDir != "" {
		errs = append(errs, os.RemoveAll(hn.dataDir))
	}
	return errors.Join(errs...)
}
