package statusview

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// ANSI colours of the terminal picture.
const (
	reset = "\x1b[0m"
	bold  = "\x1b[1m"
	dim   = "\x1b[2m"
	green = "\x1b[32m"
	blue  = "\x1b[34m"
	cyan  = "\x1b[36m"
)

// Text writes the snapshot as a terminal picture: a table of relays and
// one line per circuit with its path. With colour set it uses ANSI
// colours; otherwise it is plain text, for pipes. Names come from the
// relay list, which a relay chooses: they are made printable first.
func Text(w io.Writer, s Snapshot, colour bool) error {
	paint := func(code, text string) string {
		if !colour {
			return text
		}
		return code + text + reset
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d relays (%d exits), %d circuits\n\n",
		paint(bold, "onion proxy:"), len(s.Relays), s.exits(), len(s.Circuits))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RELAY\tFINGERPRINT\tADDRESS\tEXIT\tCIRCUITS")
	uses := s.uses()
	for _, r := range s.Relays {
		exit := ""
		if r.Exit {
			exit = "exit"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", printable(r.Nickname), Short(r.Fingerprint), printable(r.Address), exit, uses[r.Fingerprint])
	}
	tw.Flush()
	b.WriteString("\n")
	if len(s.Circuits) == 0 {
		b.WriteString("no circuits yet: the proxy builds one for the first request\n")
	}
	for _, c := range s.Circuits {
		hops := []string{paint(blue, "you")}
		for k, h := range c.Path {
			code := cyan
			if k == len(c.Path)-1 {
				code = green
			}
			hops = append(hops, paint(code, printable(h.Nickname)))
		}
		hops = append(hops, paint(dim, "(destination not shown)"))
		fmt.Fprintf(&b, "circuit %-3d %s  %d streams, %s sent, %s received, %s old\n",
			c.ID, strings.Join(hops, " ── "), c.Streams, Bytes(c.BytesSent), Bytes(c.BytesReceived), Age(c.AgeSec))
	}
	if len(s.Failures) > 0 {
		b.WriteString("\n" + paint(bold, "recent failures:") + "\n")
	}
	for _, f := range s.Failures {
		fmt.Fprintf(&b, "%8s ago  %s: %s  %s\n", Age(s.Now.Unix()-f.At), printable(f.What), printable(f.Reason), paint(dim, printable(f.Detail)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// printable keeps control characters out of the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}
