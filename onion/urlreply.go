package onion

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MaxURLLen bounds the URL in a URL reply (PROTOCOL.md §12.3).
const MaxURLLen = 2048

// CheckURL accepts what a URL reply may carry: an absolute http or https
// URL with a host and no user info, in printable ASCII without spaces,
// of at most MaxURLLen bytes, whose host is neither the user's machine nor
// a private network (urlhost.go; ErrLocalURL). Both the service (for its
// links) and the proxy (before opening anything) apply it, so file:,
// javascript: and friends never reach a browser, nor do local web pages.
func CheckURL(raw string) error {
	if len(raw) > MaxURLLen {
		return fmt.Errorf("URL longer than %d bytes", MaxURLLen)
	}
	// ASCII only: a URL's non-ASCII parts travel percent-encoded or as
	// punycode, and raw bytes could carry terminal controls or bidi tricks
	// into the prompt that shows the URL.
	for i := 0; i < len(raw); i++ {
		if raw[i] <= ' ' || raw[i] >= 0x7f {
			return errors.New("URL has spaces, control characters or non-ASCII bytes")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL scheme %q: only http and https are allowed", u.Scheme)
	}
	if u.Host == "" || u.User != nil {
		return errors.New("URL must have a host and no user info")
	}
	return checkURLHost(u.Hostname(), strings.HasPrefix(u.Host, "["))
}
