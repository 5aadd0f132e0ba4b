package circuit

// What the tests of package circuit_test reach inside a Stream.

// MoveTo places a lost stream on out as stream id, as Circuit.Attach does
// on a circuit, so a test sees exactly what goes out.
func (s *Stream) MoveTo(id uint16, out MsgSender, onClose func()) error {
	return s.moveTo(id, out, onClose)
}

// KeptLen is how many bytes the stream keeps to send again on another
// circuit.
func (s *Stream) KeptLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open == nil {
		return 0
	}
	return len(s.open.kept)
}

// MaxBatchCells is the most cells a link writes in one batch.
const MaxBatchCells = maxBatchCells
