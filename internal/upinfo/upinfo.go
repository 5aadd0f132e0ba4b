// Package upinfo is the info file of `onion up --info-file`: the JSON that
// describes a running local network (addresses, the directory's key, the
// relays, the hidden server's onion address, the demo login, every pid) to
// scripts, the benchmark and the end-to-end tests. It is declared once,
// here, for all of them.
//
// The JSON field names are an interface: scripts read them and the README
// documents --info-file, so they never change. The package only reads and
// writes the file; localnet fills it in.
package upinfo

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Info is the whole info file.
type Info struct {
	Socks        string `json:"socks"`
	Status       string `json:"status"`
	CircuitsURL  string `json:"circuits_url"`
	Directory    string `json:"directory"`     // its URL
	DirectoryKey string `json:"directory_key"` // as onion.DecodeDirectoryKey reads it
	// Directories and DirectoryKeys name every authority, the first being
	// Directory, when up runs several.
	Directories   []string `json:"directories,omitempty"`
	DirectoryKeys []string `json:"directory_keys,omitempty"`
	DataDir       string   `json:"data_dir"`
	TempDataDir   bool     `json:"data_dir_temporary"` // removed when up exits
	PID           int      `json:"pid"`                // of up itself
	DirectoryPID  int      `json:"directory_pid"`
	ProxyPID      int      `json:"proxy_pid"`
	Relays        []Relay  `json:"relays"`
	OnionAddress  string   `json:"onion_address"`
	HiddenPID     int      `json:"hiddenserver_pid"`
	// HiddenStatus is the hidden server's status page (its meeting
	// relays), HOST:PORT.
	HiddenStatus string `json:"hiddenserver_status,omitempty"`
	DemoUser     string `json:"demo_user"`
	DemoPassword string `json:"demo_password"`
	HTTPTunnel   string `json:"http_tunnel"` // the proxy's HTTP proxy port, or "off"
	// Forwards are the hidden server's --forward VPORT=TARGET values.
	Forwards []string `json:"forwards,omitempty"`
	// Metrics maps each part (directory, directory2, relay1, hiddenserver,
	// proxy, ...) to the URL of its Prometheus metrics, with
	// `onion up --metrics`.
	Metrics map[string]string `json:"metrics,omitempty"`
}

// Relay is one relay that up started.
type Relay struct {
	Nickname    string `json:"nickname"`
	Fingerprint string `json:"fingerprint"`
	Address     string `json:"address"`
	Exit        bool   `json:"exit"`
	PID         int    `json:"pid"`
}

// Exits counts the exit relays.
func (i *Info) Exits() int {
	n := 0
	for _, r := range i.Relays {
		if r.Exit {
			n++
		}
	}
	return n
}

// PIDs lists the processes up started (not up itself), leaving out those
// not known.
func (i *Info) PIDs() []int {
	var pids []int
	for _, pid := range []int{i.DirectoryPID, i.ProxyPID, i.HiddenPID} {
		if pid > 0 {
			pids = append(pids, pid)
		}
	}
	for _, r := range i.Relays {
		if r.PID > 0 {
			pids = append(pids, r.PID)
		}
	}
	return pids
}

// Read reads the info file at path.
func Read(path string) (*Info, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("info file: %w", err)
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("info file %s: %w", path, err)
	}
	return &info, nil
}

// Write writes info to path atomically, mode 0600 (it holds the demo
// password, so other users of the machine must not read it): a reader sees
// no file, the file as it was, or the whole of the new one, never a part.
// It replaces the file by a rename within its directory.
func Write(path string, info *Info) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	// CreateTemp made it 0600, before any byte was in it.
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
