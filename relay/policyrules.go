package relay

// Exit policy rules, a subset of Tor's ExitPolicy syntax, and their
// summary for the descriptor (PROTOCOL.md §7.1, §8.5).

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"onion/internal/netscope"
	"onion/onion"
)

// MaxPolicyRules bounds the rules of one policy.
const MaxPolicyRules = 256

// addrPattern is a rule's address part.
type addrPattern int

const (
	anyAddr     addrPattern = iota // *: every address
	anyIPv4                        // *4
	anyIPv6                        // *6
	privateAddr                    // private: every address RejectPrivate refuses
	prefixAddr                     // ADDR[/BITS]
)

// rule is one "accept|reject ADDR[/BITS]:PORT[-PORT]".
type rule struct {
	accept  bool
	pattern addrPattern
	prefix  netip.Prefix // with prefixAddr
	ports   onion.PortRange
	text    string
}

func (r rule) matches(a netip.AddrPort) bool {
	if p := a.Port(); p < r.ports.Lo || p > r.ports.Hi {
		return false
	}
	ip := a.Addr().Unmap()
	switch r.pattern {
	case anyIPv4:
		return ip.Is4()
	case anyIPv6:
		return ip.Is6()
	case privateAddr:
		return !netscope.GloballyReachable(ip)
	case prefixAddr:
		return r.prefix.Contains(ip)
	}
	return true
}

// rulePolicy is a list of rules: the first that matches decides, and an
// address that none matches is refused.
type rulePolicy struct {
	rules []rule
	text  string
}

func (p *rulePolicy) Allow(a netip.AddrPort) bool {
	for _, r := range p.rules {
		if r.matches(a) {
			return r.accept
		}
	}
	return false
}

func (p *rulePolicy) String() string { return p.text }

// parseRules reads a comma-separated rule list. Unless a rule names
// "private" itself, the list starts with an implicit "reject private:*",
// as Tor's ExitPolicyRejectPrivate: "accept *:80" must not open the
// exit's own network. The names reject-private and accept-all may stand
// for "reject private:*" and "accept *:*".
func parseRules(s string) (Policy, error) {
	items := strings.Split(s, ",")
	if len(items) > MaxPolicyRules {
		return nil, fmt.Errorf("exit policy of %d rules, at most %d", len(items), MaxPolicyRules)
	}
	p := &rulePolicy{}
	namesPrivate := false
	for _, it := range items {
		r, err := parseRule(strings.TrimSpace(it))
		if err != nil {
			return nil, fmt.Errorf("exit policy: %w", err)
		}
		namesPrivate = namesPrivate || r.pattern == privateAddr
		p.rules = append(p.rules, r)
	}
	var texts []string
	if !namesPrivate {
		p.rules = append([]rule{{pattern: privateAddr, ports: onion.PortRange{Lo: 1, Hi: 65535}, text: "reject private:*"}}, p.rules...)
	}
	for _, r := range p.rules {
		texts = append(texts, r.text)
	}
	p.text = strings.Join(texts, ",")
	return p, nil
}

var errRuleSyntax = errors.New(`want "accept|reject ADDR[/BITS]:PORT[-PORT]" (ADDR: *, *4, *6, private, an IPv4 address or [IPv6]; PORT: * or 1-65535)`)

func parseRule(s string) (rule, error) {
	switch strings.ToLower(s) {
	case "reject-private":
		s = "reject private:*"
	case "accept-all":
		s = "accept *:*"
	}
	verb, rest, ok := strings.Cut(s, " ")
	if !ok || (verb != "accept" && verb != "reject") {
		return rule{}, fmt.Errorf("rule %q: %w", s, errRuleSyntax)
	}
	rest = strings.TrimSpace(rest)
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return rule{}, fmt.Errorf("rule %q: %w", s, errRuleSyntax)
	}
	r := rule{accept: verb == "accept"}
	if err := r.parseAddr(rest[:i]); err != nil {
		return rule{}, fmt.Errorf("rule %q: %v; %w", s, err, errRuleSyntax)
	}
	if rest[i+1:] == "*" {
		r.ports = onion.PortRange{Lo: 1, Hi: 65535}
	} else {
		var err error
		if r.ports, err = onion.ParsePortRange(rest[i+1:]); err != nil {
			return rule{}, fmt.Errorf("rule %q: %v", s, err)
		}
	}
	r.text = verb + " " + rest
	return r, nil
}

func (r *rule) parseAddr(a string) error {
	switch a {
	case "*":
		r.pattern = anyAddr
		return nil
	case "*4":
		r.pattern = anyIPv4
		return nil
	case "*6":
		r.pattern = anyIPv6
		return nil
	case "private":
		r.pattern = privateAddr
		return nil
	}
	r.pattern = prefixAddr
	addr, bits, hasBits := strings.Cut(a, "/")
	if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		addr = addr[1 : len(addr)-1]
	} else if strings.Contains(addr, ":") {
		return errors.New("an IPv6 address goes in brackets")
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Zone() != "" {
		return fmt.Errorf("address %q", addr)
	}
	ip = ip.Unmap()
	if !hasBits {
		r.prefix = netip.PrefixFrom(ip, ip.BitLen())
		return nil
	}
	p, err := netip.ParsePrefix(ip.String() + "/" + bits)
	if err != nil {
		return fmt.Errorf("prefix %q", a)
	}
	r.prefix = p.Masked()
	return nil
}

// Summarize is p's policy summary for the descriptor: the ports p allows
// to public IPv4 addresses in general (Tor's "p" line). Only rules for
// every address (* and *4) count; a rule for a prefix or for private
// addresses does not change what a client can expect of an arbitrary
// destination, and the exit still applies its full policy to every
// connection. A Policy that is not from ParsePolicy allows every port.
func Summarize(p Policy) onion.PolicySummary {
	rp, ok := p.(*rulePolicy)
	if !ok {
		return onion.AcceptAllPorts
	}
	// Cut 1-65535 at every boundary of a wildcard rule; in each piece the
	// first wildcard rule that covers it decides.
	cuts := map[int]bool{1: true, 65536: true}
	var wild []rule
	for _, r := range rp.rules {
		if r.pattern == anyAddr || r.pattern == anyIPv4 {
			wild = append(wild, r)
			cuts[int(r.ports.Lo)], cuts[int(r.ports.Hi)+1] = true, true
		}
	}
	var accepted []onion.PortRange
	for lo := 1; lo <= 65535; {
		hi := lo + 1
		for !cuts[hi] {
			hi++
		}
		for _, r := range wild {
			if int(r.ports.Lo) <= lo && hi-1 <= int(r.ports.Hi) {
				if r.accept {
					accepted = append(accepted, onion.PortRange{Lo: uint16(lo), Hi: uint16(hi - 1)})
				}
				break
			}
		}
		lo = hi
	}
	return shorterSummary(onion.NormalizePorts(accepted))
}

// shorterSummary writes the accepted ports as an accept list or as the
// reject list of the rest, whichever is shorter (as Tor does).
func shorterSummary(accepted []onion.PortRange) onion.PolicySummary {
	acc := onion.PolicySummary{Accept: true, Ports: accepted}
	var rejected []onion.PortRange
	next := 1
	for _, r := range accepted {
		if int(r.Lo) > next {
			rejected = append(rejected, onion.PortRange{Lo: uint16(next), Hi: r.Lo - 1})
		}
		next = int(r.Hi) + 1
	}
	if next <= 65535 {
		rejected = append(rejected, onion.PortRange{Lo: uint16(next), Hi: 65535})
	}
	if len(accepted) == 0 {
		return onion.PolicySummary{Accept: false, Ports: rejected} // reject 1-65535
	}
	rej := onion.PolicySummary{Accept: false, Ports: rejected}
	if len(rejected) > 0 && len(rej.String()) < len(acc.String()) {
		return rej
	}
	return acc
}
