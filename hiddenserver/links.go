package hiddenserver

// URL replies: names and the URLs they stand for. Only http and https URLs
// of sane length naming a public host are accepted (onion.CheckURL), so a
// links file cannot make a proxy open file://, javascript:, anything else,
// or a page on the user's own machine or network.

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"onion/onion"
)

// Link bounds.
const (
	MaxLinks   = 1000
	maxNameLen = 64
)

// DefaultLinks is the built-in set served without --links.
func DefaultLinks() map[string]string {
	return map[string]string{
		"tor":    "https://www.torproject.org/",
		"onion":  "https://en.wikipedia.org/wiki/Onion_routing",
		"socks5": "https://www.rfc-editor.org/rfc/rfc1928",
		"fernet": "https://github.com/fernet/spec/blob/master/Spec.md",
	}
}

// LoadLinks reads a links file: "NAME URL" per line, # comments.
func LoadLinks(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	links := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, raw, ok := strings.Cut(line, " ")
		raw = strings.TrimSpace(raw)
		if !ok || !validName(name) {
			return nil, fmt.Errorf("%s:%d: want NAME URL, NAME of letters, digits, - and _", path, n)
		}
		if err := onion.CheckURL(raw); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if _, dup := links[name]; dup {
			return nil, fmt.Errorf("%s:%d: link %q listed twice", path, n, name)
		}
		if len(links) >= MaxLinks {
			return nil, fmt.Errorf("%s: more than %d links", path, MaxLinks)
		}
		links[name] = raw
	}
	return links, sc.Err()
}

func validName(n string) bool {
	if n == "" || len(n) > maxNameLen {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
