package e2e

// The reliability report: every reliability scenario records one
// row of what it did and what it measured, and TestMain prints the rows as
// the Markdown table of docs/RELIABILITY.md once the package's tests end.

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
)

// reportEnv names a file the table is also written to.
const reportEnv = "ONION_RELIABILITY_REPORT"

// Row is one scenario of the report. A test fills Happened and BytesLost
// from its own measures as it goes; whatever it holds when the test ends is
// recorded.
type Row struct {
	Scenario  string // what is being shown; the test's name is added
	Done      string // what the test did to the network
	Expected  string // what is required
	Happened  string // what the test measured, clause by clause
	BytesLost string // bytes lost or wrong, as the test counted them
}

// Saw adds a clause to Happened.
func (r *Row) Saw(format string, args ...any) {
	if r.Happened != "" {
		r.Happened += "; "
	}
	r.Happened += fmt.Sprintf(format, args...)
}

// plural is "1 build", "2 builds".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// reportRows holds the rows of the tests that have ended, in that order.
var reportRows struct {
	mu   sync.Mutex
	rows []Row
}

// report returns r for the test to fill, and records it when the test and
// its cleanups have ended: it is registered first, so its cleanup runs
// last and sees a process that failed to stop. A failed test says so in
// its row; a skipped one records nothing.
func report(t *testing.T, r Row) *Row {
	t.Helper()
	r.Scenario = fmt.Sprintf("%s (`%s`)", r.Scenario, t.Name())
	t.Cleanup(func() {
		switch {
		case t.Skipped():
			return
		case t.Failed() && r.Happened == "":
			r.Happened = "FAILED before it measured anything (see the test log)"
		case t.Failed():
			r.Happened = "FAILED (see the test log) after: " + r.Happened
		}
		if r.BytesLost == "" {
			r.BytesLost = "not measured"
		}
		reportRows.mu.Lock()
		defer reportRows.mu.Unlock()
		reportRows.rows = append(reportRows.rows, r)
	})
	return &r
}

// printReport writes the table to stdout and to the file named by
// $ONION_RELIABILITY_REPORT, if any row was recorded.
func printReport() error {
	reportRows.mu.Lock()
	defer reportRows.mu.Unlock()
	if len(reportRows.rows) == 0 {
		return nil
	}
	var b strings.Builder
	writeTable(&b, reportRows.rows)
	fmt.Print("\n" + b.String())
	if path := os.Getenv(reportEnv); path != "" {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("$%s: %w", reportEnv, err)
		}
	}
	return nil
}

func writeTable(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| scenario | what was done | expected | what happened | bytes lost |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n",
			cell(r.Scenario), cell(r.Done), cell(r.Expected), cell(r.Happened), cell(r.BytesLost))
	}
}

// cell keeps a text inside its Markdown table cell: an error's text may
// hold a newline or a pipe.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

func TestReportTable(t *testing.T) {
	var b strings.Builder
	writeTable(&b, []Row{{Scenario: "a", Done: "b|c", Expected: "d\ne", Happened: "f  g", BytesLost: "0"}})
	want := "| scenario | what was done | expected | what happened | bytes lost |\n" +
		"| --- | --- | --- | --- | --- |\n" +
		`| a | b\|c | d e | f g | 0 |` + "\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}
