package onion

// Exit policy summaries (PROTOCOL.md §7.1): Tor's "p" line, the ports an
// exit allows to public addresses.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MaxSummaryRanges bounds the port ranges of a summary.
const MaxSummaryRanges = 1024

// PortRange is the ports Lo through Hi, 1 ≤ Lo ≤ Hi ≤ 65535.
type PortRange struct{ Lo, Hi uint16 }

// PolicySummary says which ports an exit allows: Accept true lists the
// allowed ports, false the refused ones. The zero value allows none.
type PolicySummary struct {
	Accept bool
	Ports  []PortRange // sorted, disjoint, not adjacent
}

// AcceptAllPorts is the summary of an exit that allows every port.
var AcceptAllPorts = PolicySummary{Accept: true, Ports: []PortRange{{1, 65535}}}

// Allows reports whether the summary allows port.
func (s PolicySummary) Allows(port uint16) bool {
	if len(s.Ports) == 0 {
		return false // the zero value; a parsed summary has a range
	}
	for _, r := range s.Ports {
		if r.Lo <= port && port <= r.Hi {
			return s.Accept
		}
	}
	return !s.Accept
}

// AllowsAny reports whether some port is allowed.
func (s PolicySummary) AllowsAny() bool {
	if s.Accept || len(s.Ports) == 0 {
		return len(s.Ports) > 0
	}
	return !(len(s.Ports) == 1 && s.Ports[0] == PortRange{1, 65535})
}

// String is the text form: "accept 80,443,8000-8080" or "reject 25",
// ranges ascending; a summary that allows nothing is "reject 1-65535".
func (s PolicySummary) String() string {
	if !s.AllowsAny() {
		return "reject 1-65535"
	}
	var b strings.Builder
	if s.Accept {
		b.WriteString("accept ")
	} else {
		b.WriteString("reject ")
	}
	for i, r := range s.Ports {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(r.Lo)))
		if r.Hi != r.Lo {
			b.WriteString("-" + strconv.Itoa(int(r.Hi)))
		}
	}
	return b.String()
}

// ParsePolicySummary reads the text form. Ranges may come in any order
// and overlap; they are normalised.
func ParsePolicySummary(text string) (PolicySummary, error) {
	word, list, ok := strings.Cut(text, " ")
	if !ok || (word != "accept" && word != "reject") {
		return PolicySummary{}, fmt.Errorf("onion: policy summary %q: want \"accept|reject PORT[-PORT],...\"", text)
	}
	items := strings.Split(list, ",")
	if len(items) > MaxSummaryRanges {
		return PolicySummary{}, fmt.Errorf("onion: policy summary of %d ranges, at most %d", len(items), MaxSummaryRanges)
	}
	s := PolicySummary{Accept: word == "accept"}
	for _, it := range items {
		r, err := ParsePortRange(it)
		if err != nil {
			return PolicySummary{}, fmt.Errorf("onion: policy summary: %w", err)
		}
		s.Ports = append(s.Ports, r)
	}
	s.Ports = NormalizePorts(s.Ports)
	return s, nil
}

// ParsePortRange reads "PORT" or "PORT-PORT" (1-65535).
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	a, err1 := strconv.ParseUint(lo, 10, 16)
	b, err2 := strconv.ParseUint(hi, 10, 16)
	if err1 != nil || err2 != nil || a == 0 || a > b {
		return PortRange{}, fmt.Errorf("port range %q: want PORT or PORT-PORT within 1-65535", s)
	}
	return PortRange{uint16(a), uint16(b)}, nil
}

// NormalizePorts sorts ranges and merges overlapping and adjacent ones.
func NormalizePorts(rs []PortRange) []PortRange {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b PortRange) int { return int(a.Lo) - int(b.Lo) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && int(r.Lo) <= int(out[n-1].Hi)+1 {
			out[n-1].Hi = max(out[n-1].Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return out
}
