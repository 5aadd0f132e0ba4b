package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"onion/internal/statusview"
)

// maxStatusBody bounds one answer FetchStatus reads.
const maxStatusBody = 8 << 20

// FetchStatus asks the status endpoint at addr (HOST:PORT, loopback) for
// its relays, circuits and recent failures, as `onion status` shows them. It never goes
// through an HTTP proxy the environment names.
func FetchStatus(ctx context.Context, addr string) (statusview.Snapshot, error) {
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	s := statusview.Snapshot{Now: time.Now()}
	if err := getJSON(ctx, hc, "http://"+addr+"/relays", &s.Relays); err != nil {
		return s, err
	}
	if err := getJSON(ctx, hc, "http://"+addr+"/circuits", &s.Circuits); err != nil {
		return s, err
	}
	// A proxy from before /failures has none to give: not an error.
	_ = getJSON(ctx, hc, "http://"+addr+"/failures", &s.Failures)
	return s, nil
}

func getJSON(ctx context.Context, hc *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("status endpoint: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status endpoint: GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxStatusBody)).Decode(v); err != nil {
		return fmt.Errorf("status endpoint: GET %s: %w", url, err)
	}
	return nil
}

// meetingClient asks the hidden server, on loopback, never through a proxy
// the environment names; one shared client, so its connection is reused.
var meetingClient = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConns: 1, IdleConnTimeout: 30 * time.Second}}

// fetchMeeting asks the hidden server's status endpoint at addr for its
// meeting relays, briefly: the page is drawn without them if it does not
// answer. "" asks nothing.
func fetchMeeting(ctx context.Context, addr string) []statusview.MeetingRelay {
	if addr == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var list []statusview.MeetingRelay
	if err := getJSON(ctx, meetingClient, "http://"+addr+"/meeting", &list); err != nil {
		return nil
	}
	return list
}
