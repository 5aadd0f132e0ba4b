package directory

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"onion/onion"
)

// FuzzPublish feeds arbitrary bodies to POST /v1/relays. The handler must
// never panic, must answer every refusal with a JSON error, and must answer
// 200 only for a body that decodes to a descriptor whose signature checks.
func FuzzPublish(f *testing.F) {
	good := mustJSON(f, descriptor(f, 1, t0))
	f.Add(good)
	f.Add(bytes.Replace(good, []byte(`"exit":false`), []byte(`"exit":true`), 1))
	f.Add(bytes.Replace(good, []byte(`relay1`), []byte(`relay2`), 1))
	f.Add(mustJSON(f, descriptor(f, 2, t0.Add(-DefaultRelayTTL))))
	f.Add([]byte(`{"nickname":"a","address":"1.2.3.4:1","identity_key":"","onion_key":"","signature":""}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{}{}`))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, body []byte) {
		s := &Server{Key: dirKey(1), Now: func() time.Time { return t0 }}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/relays", bytes.NewReader(body)))

		if w.Code != http.StatusOK {
			var eb errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error == "" || w.Code < 400 {
				t.Fatalf("refusal %d with body %q", w.Code, w.Body)
			}
			return
		}
		var d onion.RelayDescriptor
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("200 for a body that does not decode: %v", err)
		}
		if err := d.Check(); err != nil {
			t.Fatalf("200 for a descriptor that fails Check: %v", err)
		}
	})
}
