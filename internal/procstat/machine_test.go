package procstat

import (
	"errors"
	"testing"
)

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
	for _, bad := range []string{"x 1 2", "", "-1 0 0"} {
		if _, err := parseLoadAvg(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("parseLoadAvg(%q) err = %v, want ErrFormat", bad, err)
		}
	}
}

func TestOwnMachine(t *testing.T) {
	needProc(t)
	if x, err := LoadAvg(); err != nil || x < 0 {
		t.Errorf("LoadAvg() = %v, %v", x, err)
	}
	if c, err := ReadCPUTimes(); err != nil || c.Total == 0 || c.Idle > c.Total {
		t.Errorf("ReadCPUTimes() = %+v, %v", c, err)
	}
}

func TestParseCPUTimes(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	stat := "cpu  100 5 50 800 20 3 2 10 40 1\ncpu0 50 2 25 400 10 1 1 5 20 0\nintr 12345\n"
	got, err := parseCPUTimes(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := (CPUTimes{Total: 990, Idle: 820}); got != want {
		t.Errorf("parseCPUTimes = %+v, want %+v (guest columns left out, iowait idle)", got, want)
	}
	// A kernel with only the first four columns.
	if got, err := parseCPUTimes("cpu 1 2 3 4\n"); err != nil || got != (CPUTimes{Total: 10, Idle: 4}) {
		t.Errorf("four columns: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5\n", "cpu 1 2 3\n", "cpu 1 2 x 4 5\n", "intr 1\ncpu 1 2 3 4\n"} {
		if _, err := parseCPUTimes(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("parseCPUTimes(%q): err = %v, want ErrFormat", bad, err)
		}
	}
}

func TestBusy(t *testing.T) {
	a := CPUTimes{Total: 1000, Idle: 600}
	for _, c := range []struct {
		b    CPUTimes
		want float64
	}{
		{CPUTimes{Total: 1200, Idle: 650}, 0.75},
		{CPUTimes{Total: 1200, Idle: 800}, 0}, // all idle
		{CPUTimes{Total: 1200, Idle: 600}, 1}, // none idle
		{CPUTimes{Total: 1000, Idle: 600}, 0}, // no tick passed
		{CPUTimes{Total: 900, Idle: 500}, 0},  // counters went back
	} {
		if got := Busy(a, c.b); got != c.want {
			t.Errorf("Busy(%+v, %+v) = %v, want %v", a, c.b, got, c.want)
		}
	}
}
