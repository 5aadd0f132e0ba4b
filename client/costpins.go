package client

// Pinned password-function costs (PROTOCOL.md §12.2, the client): a
// service's scrypt cost is remembered at the first login it proved, and a
// later challenge asking for less is refused. An impostor holding a
// service's keys, or the service itself turned hostile, could otherwise ask
// for the cheapest cost and guess the password offline from the proof.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"onion/internal/keyfile"
	"onion/onion"
)

// maxCostPins bounds the pins kept: one per service logged into.
const maxCostPins = 10000

// ErrCostLowered is the error for a challenge whose cost is below the one
// pinned for that service.
var ErrCostLowered = errors.New("client: the service lowered its password cost")

// CostPins remembers each service's scrypt cost (log2 N) from its first
// proven login. Safe for concurrent use.
type CostPins struct {
	path string // "" keeps the pins in memory only

	mu sync.Mutex
	m  map[string]uint8 // ADDRESS.onion -> highest cost logged in with
}

// costPinsFile is the JSON form: {"version":1,"scrypt_log_n":{"ADDR.onion":15}}.
type costPinsFile struct {
	Version int              `json:"version"`
	LogN    map[string]uint8 `json:"scrypt_log_n"`
}

// LoadCostPins reads the pins kept in path, a file private to its owner
// that Pin rewrites; a missing file holds none. path "" keeps the pins in
// memory only.
func LoadCostPins(path string) (*CostPins, error) {
	p := &CostPins{path: path, m: make(map[string]uint8)}
	if path == "" {
		return p, nil
	}
	if err := keyfile.CheckPrivate("cost pins file", path); errors.Is(err, fs.ErrNotExist) {
		return p, nil
	} else if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f costPinsFile
	if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 {
		return nil, fmt.Errorf("cost pins file %s: not a version 1 pins file (%v)", path, err)
	}
	if len(f.LogN) > maxCostPins {
		return nil, fmt.Errorf("cost pins file %s: more than %d services", path, maxCostPins)
	}
	for addr, logN := range f.LogN {
		if _, err := onion.ParseAddress(addr); err != nil || logN < onion.MinAuthLogN || logN > onion.MaxAuthLogN {
			return nil, fmt.Errorf("cost pins file %s: bad entry (address %v, cost %d)", path, err, logN)
		}
		p.m[addr] = logN
	}
	return p, nil
}

// Check refuses a challenge from host whose cost is below the pinned one.
func (p *CostPins) Check(host string, logN uint8) error {
	p.mu.Lock()
	pinned := p.m[host]
	p.mu.Unlock()
	if logN < pinned {
		return fmt.Errorf("%w: %s asks for scrypt cost 2^%d, below the 2^%d it used before; refusing to send a proof a guesser could test cheaply (if the service really lowered it, remove its entry from the pins file)",
			ErrCostLowered, host, logN, pinned)
	}
	return nil
}

// Pin records that host proved a login at cost logN. The pin only ever
// rises. It is written through to the file; an error means the pin is kept
// in memory only.
func (p *CostPins) Pin(host string, logN uint8) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	old, had := p.m[host]
	if logN <= old || (!had && len(p.m) >= maxCostPins) {
		return nil // unchanged, or full: the floor still holds
	}
	p.m[host] = logN
	if p.path == "" {
		return nil
	}
	return p.saveLocked()
}

// saveLocked replaces the file atomically: a crash leaves the old pins or
// the new ones, never half of them.
func (p *CostPins) saveLocked() error {
	b, err := json.MarshalIndent(costPinsFile{Version: 1, LogN: p.m}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p.path), ".pins-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p.path)
	}
	return err
}
