// Package testhosts builds a small network of hosts on this machine for
// tests and the benchmark: one Linux network namespace per host, each
// joined by a veth pair to a bridge that lives in a namespace of its own,
// so the root namespace (and every real interface) is left untouched and
// no packet leaves the machine.
//
// Address plan (plan.go): host N (1..254) is 10.N.0.1 and fd00::N (hex),
// one /16 of 10.0.0.0/8 per host, all on one LAN (10.0.0.0/8, fd00::/64).
// A host can be IPv6-only. Each namespace has its loopback up.
//
// Commands run in a host with `ip netns exec` (Host.Command); Go code can
// open sockets in a host with Host.Do, Listen and Dial. Every namespace name
// starts with a prefix unique to the process and the network, so parallel
// runs never meet; Close removes every namespace, veth and process of the
// network, and Create removes the leftovers of earlier runs that crashed.
//
// It needs root and the ip command (iproute2); Require skips a test
// without them, or fails it when the environment variable CI is set. It is
// not a network emulator: links have no delay or loss unless a test adds it.
package testhosts
