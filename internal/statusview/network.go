package statusview

import (
	"html/template"
	"io"
	"net/http"
)

// The directory's network page: the relays it lists, with their uptime,
// drawn from a Snapshot without circuits.

type networkPage struct {
	Snapshot
	Exits    int
	Short    func(string) string
	Age      func(int64) string
	Interval int
	Live     string
}

// NetworkHTML writes the directory's network page: the live part, drawn
// now (readable without JavaScript), and a script that fetches it again
// from livePath every few seconds.
func NetworkHTML(w io.Writer, s Snapshot, livePath string) error {
	return networkTmpl.Execute(w, newNetworkPage(s, livePath))
}

// NetworkLive writes the network page's live part alone.
func NetworkLive(w io.Writer, s Snapshot) error {
	return networkTmpl.ExecuteTemplate(w, "live", newNetworkPage(s, ""))
}

func newNetworkPage(s Snapshot, live string) networkPage {
	return networkPage{Snapshot: s, Exits: s.exits(), Short: Short, Age: Age, Interval: 5000, Live: live}
}

// PageHeaders are the headers of a page that loads nothing from elsewhere,
// runs only its own inline script, fetches only from its own origin, and
// is never framed.
func PageHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}

var networkTmpl = template.Must(template.New("network").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>onion directory: network</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em}
table{border-collapse:collapse} td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}
code{font-size:.9em} .note{color:#555;max-width:50em} .exit td:first-child{color:#2a2;font-weight:bold}
</style></head>
<body>
<h1>onion directory: network</h1>
<p class="note">The relays this directory authority lists now, from their signed descriptors: how long each
has been listed without a break, and whether it is an exit. Traffic is not shown: relays do not tell the
directory (each relay's <code>--metrics</code> counts its own). The page refreshes itself; the same facts are
at <a href="/network/relays">/network/relays</a> (JSON).</p>
<div id="live">{{template "live" .}}</div>
` + liveRefresh + `</body></html>
{{define "live"}}<p id="summary">{{len .Relays}} relays listed ({{.Exits}} exits); as of {{.Now.UTC.Format "15:04:05"}} UTC.</p>
{{if .Relays}}<table id="relays"><tr><th>nickname</th><th>fingerprint</th><th>address</th><th>exit</th><th>listed for</th></tr>
{{range .Relays}}<tr class="relay-row{{if .Exit}} exit{{end}}"><td>{{.Nickname}}</td><td><code title="{{.Fingerprint}}">{{call $.Short .Fingerprint}}</code></td><td>{{.Address}}</td><td>{{if .Exit}}exit{{end}}</td><td>{{call $.Age .UptimeSec}}</td></tr>
{{end}}</table>{{else}}<p>No relay has published yet.</p>{{end}}{{end}}`))
