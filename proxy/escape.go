package proxy

// Text from a hidden service, made safe to print on the user's terminal. A
// service chooses the bytes of its echo replies, its error pages and its
// URLs; printed raw, an escape sequence could move the cursor, rewrite
// earlier lines, set the window title or answer back into the input, and a
// bidirectional override could show a URL other than the one it is.

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// terminalSafe returns s with printable characters (of any script) as they
// are and each character that can steer a terminal or reorder the text
// around it written as a Go escape (\x1b, \n, \u202e): C0 controls, DEL,
// C1 controls, bidirectional formatting characters, the Unicode line and
// paragraph separators. A byte that is not UTF-8 is written \xNN, since
// some terminals read 0x9b alone as a control sequence.
func terminalSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case steersTerminal(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func steersTerminal(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f || r == '\u2028' || r == '\u2029' ||
		unicode.Is(unicode.Bidi_Control, r)
}
