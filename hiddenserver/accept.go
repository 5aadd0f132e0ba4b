package hiddenserver

// What the service does with each stream a client opens (PROTOCOL.md §12):
// authenticate it if users are configured, then hand it to the virtual
// port's handler.

import (
	"io"
	"strconv"

	"onion/onion"
	"onion/onion/circuit"
)

// Virtual ports.
const (
	PortEcho = 7
	PortHTTP = 80
)

func (s *Server) accept(st *circuit.Stream, target string) {
	defer s.cfg.Metrics.stream()()
	_, port, err := onion.SplitHostPort(target)
	if err != nil {
		st.CloseWithReason(onion.EndProtocol)
		return
	}
	// Authenticate first: a client without credentials learns nothing,
	// not even which ports exist.
	if name := st.Client(); name != "" {
		s.logger.Info("client admitted by its key", "client", name, "port", port)
	} else if s.cfg.Users != nil {
		user, ok := s.authenticate(st)
		if !ok {
			st.CloseWithReason(onion.EndExitPolicy)
			return
		}
		s.logger.Info("client authenticated", "user", user, "port", port)
	}
	if f, ok := s.forwards[port]; ok {
		s.forward(st, f)
		return
	}
	var serve func(*circuit.Stream)
	switch port {
	case PortEcho:
		serve = echo
	case PortHTTP:
		serve = s.web.serve
	default:
		s.logger.Info("stream to a port the service does not offer", "port", strconv.Itoa(int(port)))
		st.CloseWithReason(onion.EndRefused)
		return
	}
	if err := st.Accept(); err != nil {
		st.Close()
		return
	}
	serve(st)
}

// echo sends every byte back, then half-closes after the client's EOF.
func echo(st *circuit.Stream) {
	defer st.Close()
	if _, err := io.Copy(st, st); err == nil {
		st.CloseWrite()
	}
}
