package relay_test

import (
	"testing"

	"onion/relay"
)

// TestLoadKeysKeepsThem: the keys made on first use are the ones loaded
// next time.
func TestLoadKeysKeepsThem(t *testing.T) {
	dir := t.TempDir()
	id1, on1, err := relay.LoadKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	id2, on2, err := relay.LoadKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !id1.Equal(id2) || !on1.Equal(on2) {
		t.Fatal("LoadKeys made new keys for a data dir that had them")
	}
}
