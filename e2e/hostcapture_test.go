package e2e

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"onion/internal/testhosts"
)

// A capture of every link (TCP to a relay port) on the test hosts' bridge,
// taken with tcpdump in the bridge's namespace, on all its ports.
type bridgeCapture struct {
	path string
	cmd  *exec.Cmd
	out  *logWriter
	done chan error
}

// startBridgeCapture starts tcpdump and waits until it listens; the test's
// cleanup stops it if checkTLS has not.
func startBridgeCapture(t *testing.T, n *testhosts.Net, path string) *bridgeCapture {
	t.Helper()
	c := &bridgeCapture{path: path, out: &logWriter{t: t}, done: make(chan error, 1)}
	// -i any: every veth of the bridge (br0 itself does not see frames it
	// forwards between ports); each packet is seen twice, once per port.
	c.cmd = exec.Command("ip", "netns", "exec", n.BridgeNS(), "tcpdump", "-i", "any", "-U", "-s", "0",
		"-w", path, fmt.Sprintf("tcp port %d", relayPort))
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.out.Write([]byte("tcpdump   | " + sc.Text() + "\n"))
			if strings.Contains(sc.Text(), "listening on") {
				close(listening)
			}
		}
		c.done <- c.cmd.Wait()
	}()
	t.Cleanup(c.stop)
	select {
	case <-listening:
	case err := <-c.done:
		t.Fatalf("tcpdump exited: %v", err)
	case <-time.After(readyTimeout):
		t.Fatal("tcpdump did not start listening")
	}
	return c
}

// stop ends tcpdump with SIGINT, which makes it flush its file.
func (c *bridgeCapture) stop() {
	if c.cmd.ProcessState != nil || c.done == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(stopTimeout):
		c.cmd.Process.Kill()
		<-c.done
	}
	c.done = nil
}

// checkTLS stops the capture and checks that every link carried TLS
// records only, and that the plain link preface never crossed the bridge.
// On plain links (before links had TLS) it fails: that is its purpose.
func (c *bridgeCapture) checkTLS(t *testing.T) {
	c.stop()
	flows, err := readFlows(c.path)
	if err != nil {
		t.Fatalf("read capture: %v", err)
	}
	if len(flows) == 0 {
		t.Fatal("the capture holds no link traffic")
	}
	var bad, total int
	for _, f := range flows {
		if len(f.data) == 0 {
			continue
		}
		total++
		err := tlsRecordsOnly(f.data)
		if bytes.Contains(f.data, []byte("ONION/1")) {
			err = errors.Join(err, errors.New("the link preface ONION/1 is in clear"))
		}
		if err != nil {
			bad++
			if bad <= 5 {
				t.Errorf("link %s (%d bytes): not TLS records: %v", f.key, len(f.data), err)
			}
		}
	}
	t.Logf("captured %d link directions with payload; %d not TLS", total, bad)
	if bad > 0 {
		t.Errorf("%d of %d link directions carry something other than TLS records (plain links: TLS is on another branch)", bad, total)
	}
}

// tlsRecordsOnly walks data as TLS records: a type (change_cipher_spec,
// alert, handshake, application_data), version 0x0303 (0x0301 allowed for
// the first record, a ClientHello), a length up to 2^14+256. A tail shorter
// than its record is where the capture ended.
func tlsRecordsOnly(data []byte) error {
	for off := 0; off+5 <= len(data); {
		typ, ver := data[off], binary.BigEndian.Uint16(data[off+1:])
		length := int(binary.BigEndian.Uint16(data[off+3:]))
		switch {
		case typ < 0x14 || typ > 0x17:
			return fmt.Errorf("at byte %d: %#02x is no TLS record type (% x...)", off, typ, data[off:min(off+12, len(data))])
		case ver != 0x0303 && !(off == 0 && typ == 0x16 && ver == 0x0301):
			return fmt.Errorf("at byte %d: record version %#04x", off, ver)
		case length > 1<<14+256:
			return fmt.Errorf("at byte %d: record length %d", off, length)
		}
		off += 5 + length
	}
	return nil
}

// bridgeFlow is one direction of a TCP connection, its payload reassembled.
type bridgeFlow struct {
	key  string // src > dst
	isn  uint32
	segs map[uint32][]byte // relative sequence number -> payload
	data []byte
}

// readFlows reads a pcap file (Ethernet, Linux cooked v1 or v2) and
// reassembles each direction's payload in sequence order, duplicates and
// retransmissions merged.
func readFlows(path string) ([]*bridgeFlow, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) < 24 {
		return nil, errors.New("short pcap header")
	}
	var order binary.ByteOrder = binary.LittleEndian
	switch binary.LittleEndian.Uint32(raw) {
	case 0xa1b2c3d4, 0xa1b23c4d:
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		return nil, errors.New("not a pcap file")
	}
	link := order.Uint32(raw[20:])
	flows := map[string]*bridgeFlow{}
	for off := 24; off+16 <= len(raw); {
		n := int(order.Uint32(raw[off+8:]))
		if off+16+n > len(raw) {
			break // tcpdump stopped mid-packet
		}
		pkt := raw[off+16 : off+16+n]
		off += 16 + n
		if err := addPacket(flows, link, pkt); err != nil {
			return nil, err
		}
	}
	out := make([]*bridgeFlow, 0, len(flows))
	for _, f := range flows {
		f.assemble()
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *bridgeFlow) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// addPacket strips the link header and adds a TCP segment to its bridgeFlow.
func addPacket(flows map[string]*bridgeFlow, link uint32, pkt []byte) error {
	var proto uint16
	switch link {
	case 1: // Ethernet
		if len(pkt) < 14 {
			return nil
		}
		proto, pkt = binary.BigEndian.Uint16(pkt[12:]), pkt[14:]
	case 113: // Linux cooked v1
		if len(pkt) < 16 {
			return nil
		}
		proto, pkt = binary.BigEndian.Uint16(pkt[14:]), pkt[16:]
	case 276: // Linux cooked v2
		if len(pkt) < 20 {
			return nil
		}
		proto, pkt = binary.BigEndian.Uint16(pkt[0:]), pkt[20:]
	default:
		return fmt.Errorf("pcap link type %d", link)
	}
	var src, dst netip.Addr
	switch {
	case proto == 0x0800 && len(pkt) >= 20 && pkt[9] == 6:
		src, dst = netip.AddrFrom4([4]byte(pkt[12:16])), netip.AddrFrom4([4]byte(pkt[16:20]))
		total := min(int(binary.BigEndian.Uint16(pkt[2:])), len(pkt))
		pkt = pkt[int(pkt[0]&0x0f)*4 : total]
	case proto == 0x86dd && len(pkt) >= 40 && pkt[6] == 6: // no extension headers on our links
		src, dst = netip.AddrFrom16([16]byte(pkt[8:24])), netip.AddrFrom16([16]byte(pkt[24:40]))
		pkt = pkt[40:min(40+int(binary.BigEndian.Uint16(pkt[4:])), len(pkt))]
	default:
		return nil
	}
	if len(pkt) < 20 || len(pkt) < int(pkt[12]>>4)*4 {
		return nil
	}
	key := fmt.Sprintf("%s > %s",
		netip.AddrPortFrom(src, binary.BigEndian.Uint16(pkt[0:])), netip.AddrPortFrom(dst, binary.BigEndian.Uint16(pkt[2:])))
	seq, syn := binary.BigEndian.Uint32(pkt[4:]), pkt[13]&0x02 != 0
	payload := pkt[int(pkt[12]>>4)*4:]
	f := flows[key]
	if f == nil {
		f = &bridgeFlow{key: key, isn: seq, segs: map[uint32][]byte{}}
		flows[key] = f
	}
	if syn {
		f.isn = seq + 1
		return nil
	}
	if len(payload) > 0 {
		rel := seq - f.isn
		if len(payload) > len(f.segs[rel]) {
			f.segs[rel] = bytes.Clone(payload)
		}
	}
	return nil
}

// assemble joins the segments in order; a gap (a segment the capture
// missed, or a bridgeFlow caught mid-way) ends the data there.
func (f *bridgeFlow) assemble() {
	offs := make([]uint32, 0, len(f.segs))
	for o := range f.segs {
		offs = append(offs, o)
	}
	slices.Sort(offs)
	for _, o := range offs {
		if int64(o) > int64(len(f.data)) {
			break
		}
		seg := f.segs[o]
		if end := int(o) + len(seg); end > len(f.data) {
			f.data = append(f.data, seg[len(f.data)-int(o):]...)
		}
	}
	f.segs = nil
}
