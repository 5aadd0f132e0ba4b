package proxy

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPrivateDir: the data dir is created private (0700), and one that
// others can enter is refused: its pins tell which services its user
// logs into.
func TestPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "proxy")
	if err := privateDir(dir); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("created %v, %v; want mode 0700", st, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := privateDir(dir); err == nil {
		t.Error("accepted a data dir others can enter")
	}
}
