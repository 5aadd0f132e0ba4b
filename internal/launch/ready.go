package launch

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotReadyLine is returned by ParseReady for a line that is not of the
// form "<role> ready key=value ...".
var ErrNotReadyLine = errors.New("launch: not a ready line")

// ParseReady parses a ready line, "<role> ready key=value ...", into its
// key=value fields. The role is stored under the key "role". Values cannot
// contain spaces; a field without "=" or with an empty key is an error.
func ParseReady(line string) (map[string]string, error) {
	words := strings.Fields(line)
	if len(words) < 2 || words[1] != "ready" {
		return nil, fmt.Errorf("%w: %q", ErrNotReadyLine, line)
	}
	fields := map[string]string{"role": words[0]}
	for _, w := range words[2:] {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: field %q in %q", ErrNotReadyLine, w, line)
		}
		fields[k] = v
	}
	return fields, nil
}
