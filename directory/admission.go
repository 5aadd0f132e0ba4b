package directory

// Admission: which relays an authority lists, PROTOCOL.md §7.5.

import (
	"bufio"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strings"

	"onion/onion"
)

// DefaultMaxRelaysPerAddress is how many relays one IP address may have
// listed, when Config.MaxRelaysPerAddress is zero: Tor's
// AuthDirMaxServersPerAddr is 2 as well.
const DefaultMaxRelaysPerAddress = 2

// admission holds an authority's rules for relays: a per-address limit,
// fingerprints it refuses, and fingerprints exempt from the limit (or,
// with approvedOnly, the only ones it lists).
type admission struct {
	perAddress   int
	approved     map[string]bool // upper-case fingerprints
	rejected     map[string]bool
	approvedOnly bool
}

func newAdmission(cfg Config) admission {
	return admission{
		perAddress:   orDefault(cfg.MaxRelaysPerAddress, DefaultMaxRelaysPerAddress),
		approved:     fingerprintSet(cfg.Approved),
		rejected:     fingerprintSet(cfg.Rejected),
		approvedOnly: cfg.ApprovedOnly,
	}
}

func fingerprintSet(fps []string) map[string]bool {
	set := make(map[string]bool, len(fps))
	for _, fp := range fps {
		set[strings.ToUpper(fp)] = true
	}
	return set
}

// admitLocked judges relay d under fingerprint fp against the relays held
// (the store is locked): the rejected list, the approved-only rule, then
// the per-address limit, which counts the other fingerprints at the same
// host. A relay already held may move to a full address no more than a
// new one may.
func (a admission) admitLocked(fp string, d onion.RelayDescriptor, held map[string]*stored[onion.RelayDescriptor]) error {
	switch {
	case a.rejected[fp]:
		return refused(http.StatusForbidden, "relay %s is on this authority's rejected list", fp)
	case a.approvedOnly && !a.approved[fp]:
		return refused(http.StatusForbidden, "this authority lists approved relays only, and %s is not one", fp)
	case a.approved[fp]:
		return nil
	}
	host := addressHost(d.Address)
	same := 0
	for other, e := range held {
		if other != fp && addressHost(e.val.Address) == host {
			same++
		}
	}
	if same >= a.perAddress {
		return refused(http.StatusForbidden,
			"%d relays at this relay's IP address are listed already, the most one address may have (%d)", same, a.perAddress)
	}
	return nil
}

// addressHost is the host of a host:port address, an IP in its canonical
// form (IPv4-mapped IPv6 as IPv4), so that two spellings are one address.
func addressHost(addr string) string {
	host, _, err := onion.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap().String()
	}
	return strings.ToLower(host)
}

// ReadFingerprints reads a file of relay fingerprints, one a line; blank
// lines and lines starting with # are skipped. Each must be 40 hex digits.
func ReadFingerprints(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var fps []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !isFingerprint(line) {
			return nil, fmt.Errorf("%s:%d: %q is not a relay fingerprint (40 hex digits)", path, n, line)
		}
		fps = append(fps, strings.ToUpper(line))
	}
	return fps, sc.Err()
}

func isFingerprint(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range strings.ToUpper(s) {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
