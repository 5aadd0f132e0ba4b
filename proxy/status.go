package proxy

// The status endpoint: GET /circuits, on loopback only.

import (
	"encoding/json"
	"net/http"

	"onion/client"
)

// StatusHandler serves GET /circuits as a JSON array of m's circuits.
func StatusHandler(m *client.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /circuits", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(m.Circuits())
	})
	return mux
}
