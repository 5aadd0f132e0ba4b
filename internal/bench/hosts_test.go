package bench

import (
	"context"
	"testing"
)

// TestHostsRefused: --hosts starts its own network, so it refuses
// --socks; without root it says what it needs. Either way, no network.
func TestHostsRefused(t *testing.T) {
	_, err := Run(context.Background(), Config{Hosts: true, Socks: "127.0.0.1:1"})
	if err == nil {
		t.Fatal("bench --hosts --socks ran")
	}
	t.Log(err)
}
