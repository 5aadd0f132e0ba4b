package logfmt

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]Format{"": Text, "text": Text, "json": JSON, "human": Human, "plain": Plain} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Parse("yaml"); err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Errorf("Parse(yaml) = %v, want an error naming the flag", err)
	}
	if Text.Resolve(true) != Human || Text.Resolve(false) != Plain || JSON.Resolve(true) != JSON {
		t.Error("Resolve: text must be human on a terminal, plain elsewhere; json stays json")
	}
}

func TestJSONOneObjectPerLine(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(New(&b, JSON, Options{Level: slog.LevelInfo, Component: "relay"}))
	log.Info("relay ready", "circ", 7, "note", "two\nlines")
	log.With("stream", 3).WithGroup("g").Warn("x", "k", "v")
	log.Debug("hidden")
	lines := 0
	sc := bufio.NewScanner(&b)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if m["role"] != "relay" {
			t.Errorf("line %q has no role=relay", sc.Text())
		}
		lines++
	}
	if lines != 2 {
		t.Errorf("%d lines, want 2 (debug is below the level)", lines)
	}
}

func TestHuman(t *testing.T) {
	var b bytes.Buffer
	h := New(&b, Human, Options{Level: slog.LevelDebug, Component: "relay3"})
	log := slog.New(h).With("circ", 5)
	r := slog.NewRecord(time.Date(2026, 1, 2, 13, 4, 5, 6e6, time.UTC), slog.LevelWarn, "extend failed", 0)
	r.AddAttrs(slog.String("err", "refused"), slog.Group("hop", slog.Int("n", 2)))
	if err := log.Handler().Handle(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	want := "13:04:05.006 WARN  relay3 | extend failed circ=5 err=refused hop.n=2\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}

func TestHumanColour(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(New(&b, Human, Options{Level: slog.LevelInfo, Component: "up", Colour: true}))
	log.Error("boom")
	if !strings.Contains(b.String(), red+"ERROR"+reset) || !strings.Contains(b.String(), cyan+"up |"+reset) {
		t.Errorf("no colour in %q", b.String())
	}
	b.Reset()
	slog.New(New(&b, Human, Options{Level: slog.LevelInfo})).Info("plain", "k", "v")
	if strings.Contains(b.String(), "\x1b") || !strings.HasSuffix(b.String(), " INFO  plain k=v\n") {
		t.Errorf("no component, no colour: got %q", b.String())
	}
}

func TestPlainIsKeyValue(t *testing.T) {
	var b bytes.Buffer
	slog.New(New(&b, Text, Options{Level: slog.LevelInfo, Component: "proxy"})).Info("ready", "k", "v")
	if !strings.HasPrefix(b.String(), "time=") || !strings.HasSuffix(b.String(), "level=INFO msg=ready role=proxy k=v\n") {
		t.Errorf("got %q", b.String())
	}
}

type reason uint8

func (r reason) String() string { return "next relay not listed" }

func TestJSONStringers(t *testing.T) {
	var b bytes.Buffer
	slog.New(New(&b, JSON, Options{Level: slog.LevelInfo})).Info("extend failed", "reason", reason(6), "n", 6)
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["reason"] != "next relay not listed" || m["n"] != 6.0 {
		t.Errorf("got %s", b.String())
	}
}
