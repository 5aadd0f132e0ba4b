package proxy

import "testing"

// TestTerminalSafe: everything that can steer a terminal comes out escaped,
// everything printable comes out as it went in.
func TestTerminalSafe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"hello, world", "hello, world"},
		{"héllo wörld ✓ 日本語 👩‍👩‍👧", "héllo wörld ✓ 日本語 👩‍👩‍👧"}, // the emoji keeps its zero-width joiners
		{`back\slash "quotes" 'single'`, `back\slash "quotes" 'single'`},
		{"\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},                   // clear the screen
		{"\x1b]0;owned\x07", `\x1b]0;owned\a`},               // set the window title
		{"\x1bP$q\x1b\\", `\x1bP$q\x1b\`},                    // a DCS that asks the terminal to answer
		{"line\rover", `line\rover`},                         // carriage return overwrites the line
		{"a\nb\tc\x00d\x08e\x7f", `a\nb\tc\x00d\be\x7f`},     // other C0 controls and DEL
		{"\u009b2J \u0085 \u009d", `\u009b2J \u0085 \u009d`}, // C1 controls, UTF-8 encoded
		{"\x9b2J", `\x9b2J`},                                 // C1 CSI as a lone byte: not UTF-8
		{"\xff\xfe", `\xff\xfe`},
		{"https://a.com/\u202egpj.exe", `https://a.com/\u202egpj.exe`}, // right-to-left override
		{"\u202a\u202b\u202c\u202d", `\u202a\u202b\u202c\u202d`},
		{"\u2066\u2067\u2068\u2069", `\u2066\u2067\u2068\u2069`}, // isolates
		{"\u200e\u200f\u061c", `\u200e\u200f\u061c`},             // direction marks
		{"a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"\ufffd is a real character", "\ufffd is a real character"},
		{"", ""},
	} {
		if got := terminalSafe(tc.in); got != tc.want {
			t.Errorf("terminalSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
