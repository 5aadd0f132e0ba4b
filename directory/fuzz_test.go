package directory

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"onion/onion"
)

// fuzzPost posts body to path on a fresh directory and reports whether it
// was accepted. It fails the test for a refusal that is not a JSON error,
// and for an acceptance of a body that does not decode into d or whose
// descriptor fails Check.
func fuzzPost(t *testing.T, path string, body []byte, d interface{ Check() error }) (*server, bool) {
	s, _ := newServer(Config{Key: dirKey(1), Now: func() time.Time { return t0 }})
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
	if w.Code != http.StatusOK {
		var eb errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error == "" || w.Code < 400 {
			t.Fatalf("refusal %d with body %q", w.Code, w.Body)
		}
		return s, false
	}
	if err := json.Unmarshal(body, d); err != nil {
		t.Fatalf("200 for a body that does not decode: %v", err)
	}
	if err := d.Check(); err != nil {
		t.Fatalf("200 for a descriptor that fails Check: %v", err)
	}
	return s, true
}

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
		fuzzPost(t, relaysPath, body, &onion.RelayDescriptor{})
	})
}

// FuzzPublishService feeds arbitrary bodies to POST /v1/services. The
// handler never panics, answers every refusal with a JSON error, and
// answers 200 only for a descriptor that passes Check, which it then
// serves back under its address.
func FuzzPublishService(f *testing.F) {
	good := mustJSON(f, serviceDescriptor(f, 1, t0))
	f.Add(good)
	f.Add(bytes.Replace(good, []byte(`relay1`), []byte(`relay2`), 1))
	f.Add(mustJSON(f, serviceDescriptor(f, 2, t0.Add(-DefaultRelayTTL))))
	f.Add([]byte(`{"service_key":"","e2e_key":"","meeting_points":[{}],"published":0,"signature":""}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{}{}`))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, body []byte) {
		var d onion.ServiceDescriptor
		s, ok := fuzzPost(t, servicesPath, body, &d)
		if !ok {
			return
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, servicesPath+"/"+d.Address(), nil))
		var back onion.ServiceDescriptor
		if err := json.Unmarshal(w.Body.Bytes(), &back); w.Code != 200 || err != nil || !reflect.DeepEqual(back, d) || w.Body.Len() > MaxServiceBody {
			t.Fatalf("GET after publish: %d %s (%v)", w.Code, w.Body, err)
		}
	})
}
