package launch

import (
	"slices"
	"strings"
	"testing"
)

func TestLineWriter(t *testing.T) {
	var got []string
	w := &lineWriter{line: func(s string) { got = append(got, s) }}
	for _, chunk := range []string{"one\ntw", "o\r\n", "", "\nthree\nfo", "ur"} {
		w.Write([]byte(chunk))
	}
	w.flush()
	want := []string{"one", "two", "", "three", "four"}
	if !slices.Equal(got, want) {
		t.Errorf("lines = %q, want %q", got, want)
	}
}

func TestLineWriterBoundsLongLine(t *testing.T) {
	var got []int
	w := &lineWriter{line: func(s string) { got = append(got, len(s)) }}
	w.Write([]byte(strings.Repeat("x", maxLine+10) + "\n"))
	if !slices.Equal(got, []int{maxLine, 10}) {
		t.Errorf("line lengths = %v, want [%d 10]", got, maxLine)
	}
}

func TestTailKeepsLast(t *testing.T) {
	tl := tail{max: 3}
	for _, s := range []string{"a", "b", "c", "d"} {
		tl.add(s)
	}
	if got, want := tl.String(), "    b\n    c\n    d"; got != want {
		t.Errorf("tail = %q, want %q", got, want)
	}
}

func TestPrefix(t *testing.T) {
	w := PrefixWidth("directory", "relay1", "proxy")
	if got, want := Prefix("relay3", w, 2, false), "relay3    | "; got != want {
		t.Errorf("Prefix = %q, want %q", got, want)
	}
	col := Prefix("relay3", w, 2, true)
	if !strings.HasPrefix(col, "\x1b[") || !strings.Contains(col, "relay3    | ") || !strings.HasSuffix(col, "\x1b[0m") {
		t.Errorf("coloured Prefix = %q", col)
	}
}
