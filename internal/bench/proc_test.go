package bench

import (
	"errors"
	"os"
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
		if _, err := parseStatCPU(bad); !errors.Is(err, errProcFormat) {
			t.Errorf("%s: parseStatCPU err = %v, want errProcFormat", name, err)
		}
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

func TestParseStatusHWM(t *testing.T) {
	got, err := parseStatusHWM(statusFixture)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(86312 * 1024); got != want {
		t.Errorf("parseStatusHWM = %d, want %d", got, want)
	}
	for name, bad := range map[string]string{
		"no VmHWM":  "Name:\tonion\nVmRSS:\t 80200 kB\n",
		"no unit":   "VmHWM:\t 86312\n",
		"bad unit":  "VmHWM:\t 86312 MB\n",
		"not a num": "VmHWM:\t 86x12 kB\n",
	} {
		if _, err := parseStatusHWM(bad); !errors.Is(err, errProcFormat) {
			t.Errorf("%s: parseStatusHWM err = %v, want errProcFormat", name, err)
		}
	}
}

func TestParseStatusRSS(t *testing.T) {
	if got, err := parseStatusRSS(statusFixture); err != nil || got != 80200*1024 {
		t.Errorf("parseStatusRSS = %d, %v; want %d", got, err, 80200*1024)
	}
	if _, err := parseStatusRSS("Name:\tonion\nVmHWM:\t 86312 kB\n"); !errors.Is(err, errProcFormat) {
		t.Errorf("parseStatusRSS without VmRSS: err = %v, want errProcFormat", err)
	}
}

func TestParseCPUModelAndLoad(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	if got := parseCPUModel(info); got != "AMD EPYC 7B13" {
		t.Errorf("parseCPUModel = %q", got)
	}
	if got := parseCPUModel("processor\t: 0\n"); got != "" {
		t.Errorf("parseCPUModel without a model = %q, want empty", got)
	}
	if got, err := parseLoadAvg("1.25 0.80 0.40 2/345 6789\n"); err != nil || got != 1.25 {
		t.Errorf("parseLoadAvg = %v, %v; want 1.25", got, err)
	}
	if _, err := parseLoadAvg("x 1 2"); !errors.Is(err, errProcFormat) {
		t.Errorf("parseLoadAvg(bad) err = %v", err)
	}
}

// TestReadOwnProc reads this process's own /proc files, so the parsers are
// also checked against the kernel's real format.
func TestReadOwnProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	if _, err := readCPU(os.Getpid()); err != nil {
		t.Errorf("readCPU(self): %v", err)
	}
	if n, err := readPeakRSS(os.Getpid()); err != nil || n <= 0 {
		t.Errorf("readPeakRSS(self) = %d, %v", n, err)
	}
	if n, err := readRSS(os.Getpid()); err != nil || n <= 0 {
		t.Errorf("readRSS(self) = %d, %v", n, err)
	}
	procs := []process{{name: "me", role: roleProxy, pid: os.Getpid()}}
	before, err := takeCPU(procs)
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	} // burn a little CPU
	after, err := takeCPU(procs)
	if err != nil {
		t.Fatal(err)
	}
	if got := cpuByRole(procs, before, after)[roleProxy]; got < 0 || got > 5 {
		t.Errorf("cpuByRole = %v s for 50 ms of work", got)
	}
}
