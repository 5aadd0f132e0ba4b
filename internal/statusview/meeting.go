package statusview

import (
	"html/template"
	"io"
	"time"
)

// The hidden server's page: its meeting relays, each with the circuit
// that reaches it.

// MeetingRelay is one meeting relay of a service, as the hidden server's
// GET /meeting gives it.
type MeetingRelay struct {
	Service     string `json:"service"` // the onion address it serves
	Nickname    string `json:"nickname"`
	Fingerprint string `json:"fingerprint"`
	Address     string `json:"address"`
	Path        []Hop  `json:"path"` // the circuit to it, the relay last
	AgeSec      int64  `json:"age_seconds"`
}

// Meeting is what the hidden server's page shows.
type Meeting struct {
	Relays []MeetingRelay
	Now    time.Time
}

type meetingPage struct {
	Meeting
	Short    func(string) string
	Age      func(int64) string
	Interval int
	Live     string
}

// MeetingHTML writes the hidden server's page: the live part, drawn now
// (readable without JavaScript), and a script that fetches it again from
// livePath every few seconds.
func MeetingHTML(w io.Writer, m Meeting, livePath string) error {
	return meetingTmpl.Execute(w, meetingPage{Meeting: m, Short: Short, Age: Age, Interval: 3000, Live: livePath})
}

// MeetingLive writes the page's live part alone.
func MeetingLive(w io.Writer, m Meeting) error {
	return meetingTmpl.ExecuteTemplate(w, "live", meetingPage{Meeting: m, Short: Short, Age: Age})
}

var meetingTmpl = template.Must(template.New("meeting").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>onion hidden server: meeting relays</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em}
table{border-collapse:collapse} td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}
code{font-size:.9em} .note{color:#555;max-width:50em} .meet{color:#2a2;font-weight:bold}
</style></head>
<body>
<h1>onion hidden server: meeting relays</h1>
<p class="note">The relays where clients meet this hidden server, each with the circuit the server keeps
to it (the meeting relay last), as its descriptor names them. Clients and what they ask for are not shown.
The page refreshes itself; the same facts are at <a href="/meeting">/meeting</a> (JSON).</p>
<div id="live">{{template "live" .}}</div>
` + liveRefresh + `</body></html>
{{define "live"}}<p id="summary">{{len .Relays}} meeting relays; as of {{.Now.UTC.Format "15:04:05"}} UTC.</p>
{{if .Relays}}<table id="meeting"><tr><th>service</th><th>meeting relay</th><th>fingerprint</th><th>address</th><th>circuit</th><th>established</th></tr>
{{range .Relays}}<tr class="meeting-row"><td><code title="{{.Service}}">{{call $.Short .Service}}</code></td><td class="meet">{{.Nickname}}</td><td><code title="{{.Fingerprint}}">{{call $.Short .Fingerprint}}</code></td><td>{{.Address}}</td><td>this server{{range .Path}} &rarr; <span title="{{.Fingerprint}} {{.Address}}">{{.Nickname}}</span>{{end}}</td><td>{{call $.Age .AgeSec}} ago</td></tr>
{{end}}</table>{{else}}<p>No meeting relay yet: the server is building circuits to some.</p>{{end}}{{end}}`))
