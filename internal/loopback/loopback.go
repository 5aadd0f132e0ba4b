// Package loopback keeps local HTTP endpoints (the proxy's status page,
// every part's metrics) to this machine: it listens on loopback addresses
// only and serves only requests whose Host header names this machine.
//
// Listening on loopback keeps other machines out but not web pages: a page
// whose name its owner re-points at 127.0.0.1 (DNS rebinding) can read the
// answer as same-origin. The browser still sends that name in the Host
// header, so only requests naming a loopback address or localhost are
// served.
package loopback

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Host reports whether a Host header (with or without a port) names this
// machine by a loopback IP literal or as localhost.
func Host(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Zone() == "" && a.Unmap().IsLoopback()
}

// Guard serves h to requests whose Host is a loopback address or
// localhost, and 403 to the others.
func Guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Host(r.Host) {
			http.Error(w, "forbidden: the Host header must be a loopback address or localhost", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Addr reports whether addr (HOST:PORT) is a loopback IP literal or
// localhost.
func Addr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Zone() == "" && a.Unmap().IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s is not a loopback address", addr)
}
