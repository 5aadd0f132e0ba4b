package e2e

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNoSecretsInLogs runs a whole network at debug level, logs in to the
// hidden server (once with a wrong password), and then searches every log
// line of every process for every secret of the run: the directory's,
// relays' and service's private keys (as stored and as hex), the users
// file's verifiers, the demo password and the wrong one. None may appear.
// The banner on stdout shows the demo password on purpose; log lines are
// the ones that carry "level=".
func TestNoSecretsInLogs(t *testing.T) {
	const wrong = "wrong-Pa55word"
	rep := report(t, Row{
		Scenario:  "secrets in logs",
		Done:      "a whole network at debug level; a login and a wrong password; search every log line",
		Expected:  "no private key (base64, hex), verifier or password in any log line",
		BytesLost: "—",
	})
	n := startHiddenUp(t, upOptions{env: []string{"ONION_LOG_LEVEL=debug"}})
	client := hiddenHTTP(t, n.Socks, n.DemoUser, n.DemoPassword, false)
	if _, err := fetch(t, client, "POST", n.url("/echo"), []byte("secret-free"), echoTimeout); err != nil {
		t.Fatalf("echo with the demo login: %v", err)
	}
	bad := hiddenHTTP(t, n.Socks, n.DemoUser, wrong, false)
	if _, err := fetch(t, bad, "GET", n.url("/"), nil, refuseTimeout); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	waitFor(t, 10*time.Second, "the denial in the hidden server's log", func() bool {
		return n.up.out.contains("authentication denied")
	})

	secrets := map[string]string{"demo password": n.DemoPassword, "wrong password": wrong}
	for _, f := range []string{"directory/directory.key", "hiddenserver/service.key", "hiddenserver/e2e.key"} {
		addKeyFile(t, secrets, filepath.Join(n.DataDir, f))
	}
	for _, r := range n.Relays {
		addKeyFile(t, secrets, filepath.Join(n.DataDir, r.Nickname, "identity.key"))
		addKeyFile(t, secrets, filepath.Join(n.DataDir, r.Nickname, "onion.key"))
	}
	users, err := os.ReadFile(filepath.Join(n.DataDir, "hiddenserver", "users"))
	if err != nil {
		t.Fatal(err)
	}
	verifiers := 0
	for _, line := range strings.Split(string(users), "\n") {
		if f := strings.Fields(line); len(f) == 3 && !strings.HasPrefix(line, "#") {
			secrets["verifier of "+f[0]] = f[2]
			verifiers++
		}
	}

	n.up.out.mu.Lock()
	defer n.up.out.mu.Unlock()
	logLines, found := 0, map[string]bool{}
	for _, line := range n.up.out.lines {
		if !strings.Contains(line, "level=") {
			continue
		}
		logLines++
		for what, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("%s appears in a log line: %s", what, line)
				found[what] = true
			}
		}
	}
	if logLines < 50 {
		t.Fatalf("only %d log lines: was the run really at debug level?", logLines)
	}
	t.Logf("checked %d log lines for %d secrets", logLines, len(secrets))
	rep.Saw("%d log lines searched for %d secrets (the keys of the directory, the service and %d relays, as stored, hex and url-base64; %s; 2 passwords): %d found",
		logLines, len(secrets), len(n.Relays), plural(verifiers, "verifier"), len(found))
}

// addKeyFile adds a key file's secret, as stored (base64) and as hex.
func addKeyFile(t *testing.T, secrets map[string]string, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	s := strings.TrimSpace(string(b))
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("key file %s: %v", path, err)
	}
	secrets[path] = s
	secrets[path+" (hex)"] = hex.EncodeToString(raw)
	secrets[path+" (url-base64)"] = base64.RawURLEncoding.EncodeToString(raw)
}
