package upinfo

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

func sample() *Info {
	return &Info{
		Socks: "127.0.0.1:1080", Status: "127.0.0.1:9000", CircuitsURL: "http://127.0.0.1:9000/circuits",
		Directory: "http://127.0.0.1:7000", DirectoryKey: "dirkey", DataDir: "/tmp/d", TempDataDir: true,
		PID: 10, DirectoryPID: 11, ProxyPID: 12, HiddenPID: 13,
		Relays: []Relay{
			{Nickname: "relay1", Fingerprint: "fp1", Address: "127.0.0.1:7001", Exit: true, PID: 21},
			{Nickname: "relay2", Fingerprint: "fp2", Address: "127.0.0.1:7002", PID: 22},
		},
		OnionAddress: "abc.onion", DemoUser: "demo", DemoPassword: "pw",
		HTTPTunnel: "127.0.0.1:8118",
	}
}

// TestFieldNames pins the JSON names: scripts read them, so a rename must
// fail here rather than in someone's script.
func TestFieldNames(t *testing.T) {
	b, err := json.Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"socks":"127.0.0.1:1080","status":"127.0.0.1:9000","circuits_url":"http://127.0.0.1:9000/circuits",` +
		`"directory":"http://127.0.0.1:7000","directory_key":"dirkey","data_dir":"/tmp/d","data_dir_temporary":true,` +
		`"pid":10,"directory_pid":11,"proxy_pid":12,"relays":[` +
		`{"nickname":"relay1","fingerprint":"fp1","address":"127.0.0.1:7001","exit":true,"pid":21},` +
		`{"nickname":"relay2","fingerprint":"fp2","address":"127.0.0.1:7002","exit":false,"pid":22}],` +
		`"onion_address":"abc.onion","hiddenserver_pid":13,"demo_user":"demo","demo_password":"pw","http_tunnel":"127.0.0.1:8118"}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "info.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, sample()); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sample()) {
		t.Errorf("Read = %+v, want %+v", got, sample())
	}
	// The demo password is in it: 0600, even over a file that was 0644.
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want the info file alone", len(ents))
	}
}

func TestWriteFails(t *testing.T) {
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "missing", "info.json"), sample()); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
	// A directory in the file's place: the rename fails, and no temporary
	// file is left behind.
	path := filepath.Join(dir, "info.json")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, sample()); err == nil {
		t.Error("Write over a directory succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries after a failed write, want 1", len(ents))
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(filepath.Join(dir, "none.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read of a missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"socks":`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("Read of a cut file: %v, want an error naming it", err)
	}
}

// TestWriteAtomic reads the file while it is rewritten: every read must
// find a whole file, never a part of one.
func TestWriteAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "info.json")
	big := sample()
	for range 200 {
		big.Relays = append(big.Relays, big.Relays[0])
	}
	if err := Write(path, big); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for i := range 200 {
			big.PID = i
			if err := Write(path, big); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for reads := 0; ; reads++ {
		select {
		case <-done:
			wg.Wait()
			t.Logf("%d reads during 200 writes", reads)
			return
		default:
		}
		if info, err := Read(path); err != nil || len(info.Relays) != len(big.Relays) {
			t.Fatalf("read %d: %v", reads, err)
		}
	}
}

func TestPIDsAndExits(t *testing.T) {
	i := sample()
	if got, want := i.PIDs(), []int{11, 12, 13, 21, 22}; !slices.Equal(got, want) {
		t.Errorf("PIDs = %v, want %v", got, want)
	}
	if i.Exits() != 1 {
		t.Errorf("Exits = %d, want 1", i.Exits())
	}
	i.HiddenPID, i.Relays[1].PID = 0, 0
	if got, want := i.PIDs(), []int{11, 12, 21}; !slices.Equal(got, want) {
		t.Errorf("PIDs without hidden server and relay2 = %v, want %v", got, want)
	}
}
