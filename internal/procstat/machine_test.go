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
}
