package circuit_test

import (
	"errors"
	"testing"

	"onion/onion"
	"onion/onion/circuit"
)

// TestResolveStream: RESOLVE goes out on Begin with the name; RESOLVED
// arrives on Control and ends the stream, which then sends nothing on
// Close. RESOLVED on a stream that asked for none breaks the protocol.
func TestResolveStream(t *testing.T) {
	rec := &recorder{}
	s, err := circuit.NewResolveStream("example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MoveTo(3, rec, nil); err != nil {
		t.Fatal(err)
	}
	s.Begin()
	wantSent(t, rec, onion.RelayMsg{Cmd: onion.RelayResolve, Stream: 3, Body: []byte("example.org\x00")})
	body := []byte{0x04, 4, 192, 0, 2, 7, 0, 0, 0, 60}
	if err := s.Deliver(onion.RelayMsg{Cmd: onion.RelayResolved, Stream: 3, Body: body}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-s.Control():
		if m.Cmd != onion.RelayResolved || string(m.Body) != string(body) {
			t.Errorf("control got %v %x", m.Cmd, m.Body)
		}
	default:
		t.Fatal("no RESOLVED on Control")
	}
	<-s.Done()
	s.Close()
	wantSent(t, rec) // the exit forgot the stream: no END
	if err := s.Deliver(onion.RelayMsg{Cmd: onion.RelayResolved, Stream: 3, Body: body}); !errors.Is(err, circuit.ErrProtocol) {
		t.Errorf("a second RESOLVED: %v, want ErrProtocol", err)
	}

	plain := newClient(t, rec, 4, false)
	if err := plain.Deliver(onion.RelayMsg{Cmd: onion.RelayResolved, Stream: 4, Body: body}); !errors.Is(err, circuit.ErrProtocol) {
		t.Errorf("RESOLVED on a BEGIN stream: %v, want ErrProtocol", err)
	}
	if _, err := circuit.NewResolveStream(""); err == nil {
		t.Error("an empty name made a resolve stream")
	}
}
