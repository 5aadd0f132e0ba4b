package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"onion/internal/launch"
	"onion/internal/ptytest"
)

// labFlags are what the README's "All on one machine" paragraph adds to
// the commands of "Run the parts on separate machines" for a lab on
// 127.0.0.1; the test checks the README says so in these words.
var labFlags = map[string]string{
	"onion directory": "--allow-private-addresses --max-relays-per-address 8",
	"--exit":          "--exit-policy accept-all",
}

// TestREADMEFirstHour runs the README's manual setup, block by block as
// written (directory, three relays, proxy, hidden server, curl and the
// client), each "machine" in a working directory of its own, with
// 127.0.0.1 and free ports in place of A to E and the ports, and the
// values the parts print (KEY, ADDR) in place of theirs. A flag renamed
// in the code, or a step that no longer works, fails it. Budget 90 s
// (about 25 s).
func TestREADMEFirstHour(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is missing in CI")
		}
		t.Skip("curl not installed")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := readmeSection(t, string(readme), "## Run the parts on separate machines")
	flat := strings.Join(strings.Fields(section), " ")
	for _, add := range labFlags {
		if !strings.Contains(flat, add) {
			t.Errorf("the README's lab paragraph no longer says %q", add)
		}
	}
	r := &readmeRun{t: t, root: t.TempDir(), password: "correct-horse-battery", vars: map[string]string{}}
	r.vars["0.0.0.0:7000"] = freeLoopback(t)
	r.vars["http://A:7000"] = "http://" + r.vars["0.0.0.0:7000"]
	r.vars["127.0.0.1:1080"] = freeLoopback(t)
	r.vars["PASSWORD"] = r.password
	lines := shellLines(section)
	if len(lines) < 9 {
		t.Fatalf("the README's setup has %d commands, want the 9 of its five steps:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, line := range lines {
		r.run(line)
	}
}

type readmeRun struct {
	t        *testing.T
	root     string
	password string
	vars     map[string]string // placeholder -> value, applied to each line
}

// run runs one line of the README on the machine it names.
func (r *readmeRun) run(line string) {
	t := r.t
	machine := "you"
	if m := regexp.MustCompile(`--address ([A-Z]):(\d+)`).FindStringSubmatch(line); m != nil {
		machine = m[1]
		addr := freeLoopback(t)
		r.vars[m[1]+":"+m[2]], r.vars["0.0.0.0:"+m[2]] = addr, addr
	}
	args := r.fill(line)
	for when, add := range labFlags {
		if strings.Contains(line, when) {
			args = append(args, strings.Fields(add)...)
		}
	}
	t.Logf("README: %s\n   run: %s", line, strings.Join(args, " "))
	switch {
	case strings.HasPrefix(line, "onion directory"):
		p := r.start("directory", "A", args)
		r.vars["KEY"] = p.ready["key"]
	case strings.HasPrefix(line, "onion relay"):
		r.start("relay-"+machine, machine, args)
	case strings.HasPrefix(line, "onion proxy"):
		r.start("proxy", "you", args)
	case strings.HasPrefix(line, "onion hiddenserver adduser"):
		cmd := r.command("E", args)
		cmd.Env = append(os.Environ(), "ONION_PASSWORD="+r.password)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
	case strings.HasPrefix(line, "onion hiddenserver"):
		p := r.start("hiddenserver", "E", args)
		r.vars["ADDR.onion"] = p.ready["address"]
	case strings.HasPrefix(line, "curl"):
		out, err := r.command("you", append(args, "--max-time", "60", "-sS")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "hello") {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
	case strings.HasPrefix(line, "onion client"):
		r.client(args)
	default:
		t.Fatalf("the README's setup has a line this test does not know: %s", line)
	}
}

// fill splits line into words and puts the run's values in place of the
// README's placeholders.
func (r *readmeRun) fill(line string) []string {
	words := strings.Fields(line)
	for i, w := range words {
		if strings.ContainsAny(w, `'"$`) {
			r.t.Fatalf("the README's line %q quotes or expands: this test does not run a shell", line)
		}
		for k, v := range r.vars {
			w = strings.ReplaceAll(w, k, v)
		}
		words[i] = w
	}
	if words[0] == "onion" {
		words[0] = onionBinary(r.t)
	}
	return words
}

// command is args on machine's own working directory.
func (r *readmeRun) command(machine string, args []string) *exec.Cmd {
	dir := filepath.Join(r.root, machine)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		r.t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	return cmd
}

// start starts a long-running part and waits for its ready line.
func (r *readmeRun) start(name, machine string, args []string) *proc {
	c := launch.New(name, args[0], args[1:]...)
	c.Cmd.Dir = r.command(machine, args).Dir
	return startChild(r.t, c, args[1:]...)
}

// client runs `onion client` on a terminal: a typed line comes back, once
// the client has logged in with the password it asks for.
func (r *readmeRun) client(args []string) {
	t := r.t
	cmd := r.command("you", args)
	p, err := ptytest.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		p.Close()
		cmd.Process.Kill()
		cmd.Wait()
		t.Logf("onion client's terminal:\n%s", p.Output())
	}()
	// The client joins the service at the first line typed, and logs in then.
	p.Send("hello from the README\n")
	if _, err := p.Expect("Password for alice", 60*time.Second); err != nil {
		t.Fatalf("onion client: %v", err)
	}
	p.Send(r.password + "\n")
	if _, err := p.Expect("hello from the README", 30*time.Second); err != nil {
		t.Fatalf("the echo did not come back: %v", err)
	}
}

// readmeSection is the text from heading to the next heading of its level.
func readmeSection(t *testing.T, readme, heading string) string {
	i := strings.Index(readme, heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	rest := readme[i+len(heading):]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// shellLines are the commands of the section's ```sh blocks: continuation
// lines joined, comments and blank lines left out.
func shellLines(section string) []string {
	var lines []string
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		joined := strings.ReplaceAll(block[1], "\\\n", " ")
		for _, l := range strings.Split(joined, "\n") {
			l = strings.TrimSpace(l)
			if l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, strings.Join(strings.Fields(l), " "))
			}
		}
	}
	return lines
}

// freeLoopback is 127.0.0.1 and a port free a moment ago.
func freeLoopback(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr())
}
