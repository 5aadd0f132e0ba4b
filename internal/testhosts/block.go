package testhosts

import "strconv"

// BlockInbound makes TCP connections from each host of from to host h's
// port fail at once, as a firewall that rejects them would: a policy rule
// in each of those hosts' namespaces prohibits routing to h's addresses
// with that destination port. Connections h opens itself, and the replies
// to them, pass (their far end's port is another). Without iptables or
// nft, this is routing only; the rules go with the namespaces.
func (h *Host) BlockInbound(port uint16, from ...*Host) error {
	for _, f := range from {
		if err := runAll(h.blockCmds(f.NS, port)); err != nil {
			return err
		}
	}
	return nil
}

// blockCmds is the ip commands that, in namespace ns, prohibit TCP to h's
// addresses at port.
func (h *Host) blockCmds(ns string, port uint16) [][]string {
	p := strconv.Itoa(int(port))
	cmds := [][]string{{"-n", ns, "-6", "rule", "add", "to", h.IPv6.String() + "/128", "ipproto", "tcp", "dport", p, "prohibit"}}
	if h.IPv4.IsValid() {
		cmds = append(cmds, []string{"-n", ns, "-4", "rule", "add", "to", h.IPv4.String() + "/32", "ipproto", "tcp", "dport", p, "prohibit"})
	}
	return cmds
}
