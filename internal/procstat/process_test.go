package procstat

import (
	"errors"
	"os"
	"slices"
	"testing"
	"time"
)

// A real /proc/PID/stat line, with a command name that holds spaces and a
// ')' to show that fields are counted from the last one. utime is 1234
// ticks, stime 566.
const statFixture = "4242 (onion (re) lay) S 1 4242 4242 0 -1 4194560 12345 0 0 0 1234 566 0 0 20 0 9 0 " +
	"5000 1283457024 5120 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0\n"

func TestParseStatCPU(t *testing.T) {
	got, err := parseStatCPU(statFixture)
	if err != nil {
		t.Fatal(err)
	}
	if want := 18 * time.Second; got != want { // (1234+566) / 100 Hz
		t.Errorf("parseStatCPU = %v, want %v", got, want)
	}
	for name, bad := range map[string]string{
		"no comm":      "4242 onion S 1 2 3",
		"short":        "4242 (onion) S 1 4242 4242 0 -1 4194560 12345 0 0 0 1234",
		"not a number": "4242 (onion) S 1 4242 4242 0 -1 4194560 12345 0 0 0 12x4 566 0",
		"negative":     "4242 (onion) S 1 4242 4242 0 -1 4194560 12345 0 0 0 -5 566 0",
		"empty":        "",
	} {
		if _, err := parseStatCPU(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: parseStatCPU err = %v, want ErrFormat", name, err)
		}
	}
}

func TestStatFieldsState(t *testing.T) {
	f, err := statFields(statFixture, statState)
	if err != nil || f[0] != "S" {
		t.Errorf("state of the fixture = %q, %v; want S", f, err)
	}
	if _, err := statFields("4242 (a) b) ", statState); !errors.Is(err, ErrFormat) {
		t.Errorf("nothing after the last ')': err = %v, want ErrFormat", err)
	}
}

const statusFixture = `Name:	onion
Umask:	0022
State:	S (sleeping)
Pid:	4242
VmPeak:	 1253456 kB
VmSize:	 1253456 kB
VmHWM:	   86312 kB
VmRSS:	   80200 kB
Threads:	9
`

func TestParseStatusKB(t *testing.T) {
	for key, want := range map[string]int64{"VmHWM": 86312 << 10, "VmRSS": 80200 << 10} {
		if got, err := parseStatusKB(statusFixture, key); err != nil || got != want {
			t.Errorf("%s = %d, %v; want %d", key, got, err, want)
		}
	}
	for name, bad := range map[string]string{
		"no VmHWM":  "Name:\tonion\nVmRSS:\t 80200 kB\n",
		"no unit":   "VmHWM:\t 86312\n",
		"bad unit":  "VmHWM:\t 86312 MB\n",
		"not a num": "VmHWM:\t 86x12 kB\n",
		"negative":  "VmHWM:\t -1 kB\n",
	} {
		if _, err := parseStatusKB(bad, "VmHWM"); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
}

// TestOwnProcess reads this process's own entries, so the parsers are also
// checked against the kernel's real format.
func TestOwnProcess(t *testing.T) {
	needProc(t)
	me := os.Getpid()
	if _, err := CPUTime(me); err != nil {
		t.Errorf("CPUTime(self): %v", err)
	}
	if s, err := State(me); err != nil || s != 'R' && s != 'S' {
		t.Errorf("State(self) = %q, %v; want R or S", s, err)
	}
	rss, err := RSS(me)
	if err != nil || rss <= 0 {
		t.Errorf("RSS(self) = %d, %v", rss, err)
	}
	if peak, err := PeakRSS(me); err != nil || peak < rss {
		t.Errorf("PeakRSS(self) = %d, %v; want at least RSS %d", peak, err, rss)
	}
}

func TestCPUTimeGrows(t *testing.T) {
	needProc(t)
	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU until the kernel's tick count moves; bounded by a deadline.
	var after time.Duration
	for deadline := time.Now().Add(5 * time.Second); after <= before && time.Now().Before(deadline); {
		if after, err = CPUTime(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if after <= before {
		t.Errorf("CPUTime stayed at %v through 5 s of busy work", before)
	}
}

func TestOpenFDs(t *testing.T) {
	needProc(t)
	before, err := OpenFDs(os.Getpid())
	if err != nil || before < 3 {
		t.Fatalf("OpenFDs(self) = %d, %v", before, err)
	}
	// A regular file: the runtime does not register it with its poller, so
	// opening it adds exactly one descriptor.
	f, err := os.CreateTemp(t.TempDir(), "fd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if after, err := OpenFDs(os.Getpid()); err != nil || after != before+1 {
		t.Errorf("OpenFDs after opening one file = %d, %v; want %d", after, err, before+1)
	}
}

func TestExecutableAndPIDs(t *testing.T) {
	needProc(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Executable(os.Getpid()); err != nil || got != exe {
		t.Errorf("Executable(self) = %q, %v; want %q", got, err, exe)
	}
	pids, err := PIDs()
	if err != nil || !slices.Contains(pids, os.Getpid()) || slices.Contains(pids, 0) {
		t.Errorf("PIDs() = %d pids, %v; want this one (%d) among them", len(pids), err, os.Getpid())
	}
}

func TestGonePID(t *testing.T) {
	needProc(t)
	const never = 1 << 30 // above the kernel's pid_max limit
	if _, err := RSS(never); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("RSS of a pid that cannot exist: err = %v, want ErrNotExist", err)
	}
}

func needProc(t *testing.T) {
	t.Helper()
	if !Supported() {
		t.Skip("no Linux /proc here")
	}
}
