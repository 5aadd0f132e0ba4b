package proxy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// answers is a Prompter that gives its answers in turn.
type answers []string

func (a *answers) Ask(string, bool) (string, error) {
	if len(*a) == 0 {
		return "", errors.New("no more answers")
	}
	s := (*a)[0]
	*a = (*a)[1:]
	return s, nil
}

func TestNewPassword(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("from-file\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, env string
		prompt          *answers
		want            string // "" means an error
	}{
		{"file first", file, "from-env", &answers{"typed", "typed"}, "from-file"},
		{"environment", "", "from-env", &answers{"typed", "typed"}, "from-env"},
		{"typed twice", "", "", &answers{"typed", "typed"}, "typed"},
		{"answers differ", "", "", &answers{"typed", "typo"}, ""},
		{"empty", "", "", &answers{" ", " "}, ""},
		{"no terminal", "", "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Prompter
			if tc.prompt != nil {
				p = tc.prompt
			}
			got, err := NewPassword(tc.file, tc.env, p)
			if tc.want == "" && err == nil {
				t.Fatalf("NewPassword = %q, want an error", got)
			}
			if tc.want != "" && (err != nil || got != tc.want) {
				t.Fatalf("NewPassword = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
