package statusview

import (
	"html/template"
	"io"
)

// The picture's geometry: one row per circuit, one node per hop.
const (
	rowHeight = 64
	nodeGap   = 150
	firstX    = 70
	topY      = 30
)

// svgNode is one drawn node: the proxy, a relay, or the far end.
type svgNode struct {
	X, Y  int
	Label string
	Title string // shown on hover: fingerprint and address
	Kind  string // css class: you, relay, exit, end
}

type svgRow struct {
	ID    int
	Y     int
	X1    int // the line through the row's nodes
	X2    int
	Nodes []svgNode
	Info  string
}

type page struct {
	Snapshot
	Exits    int
	Uses     map[string]int
	Rows     []svgRow
	Width    int
	Height   int
	Short    func(string) string
	Bytes    func(uint64) string
	Age      func(int64) string
	Ago      func(int64) string // Unix seconds as an age: "12s ago"
	Interval int                // milliseconds between refreshes
	Live     string             // where the script fetches the live part
}

// rows lays the circuits out for the SVG.
func rows(s Snapshot) ([]svgRow, int, int) {
	var out []svgRow
	width := firstX + 4*nodeGap
	for i, c := range s.Circuits {
		y := topY + i*rowHeight
		r := svgRow{ID: c.ID, Y: y, Info: Bytes(c.BytesSent) + " sent, " + Bytes(c.BytesReceived) + " received, " + Age(c.AgeSec)}
		r.Nodes = append(r.Nodes, svgNode{X: firstX, Y: y, Label: "this proxy", Kind: "you"})
		for k, h := range c.Path {
			kind := "relay"
			if k == len(c.Path)-1 {
				kind = "exit"
			}
			r.Nodes = append(r.Nodes, svgNode{X: firstX + (k+1)*nodeGap, Y: y, Label: h.Nickname,
				Title: h.Nickname + " " + h.Fingerprint + " " + h.Address, Kind: kind})
		}
		end := firstX + (len(c.Path)+1)*nodeGap
		r.Nodes = append(r.Nodes, svgNode{X: end, Y: y, Label: "destination", Title: "where its streams go is not shown", Kind: "end"})
		r.X1, r.X2 = firstX, end
		width = max(width, end+nodeGap)
		out = append(out, r)
	}
	return out, width, topY + max(len(s.Circuits), 1)*rowHeight
}

func newPage(s Snapshot) page {
	r, w, h := rows(s)
	return page{Snapshot: s, Exits: s.exits(), Uses: s.uses(), Rows: r, Width: w, Height: h,
		Short: Short, Bytes: Bytes, Age: Age, Interval: 2000,
		Ago: func(at int64) string { return Age(s.Now.Unix()-at) + " ago" }}
}

// HTML writes the whole status page: the live part, drawn now (readable
// without JavaScript), and a small script that fetches the live part
// again every two seconds from livePath.
func HTML(w io.Writer, s Snapshot, livePath string) error {
	p := newPage(s)
	p.Live = livePath
	return pageTmpl.Execute(w, p)
}

// Live writes the live part alone: what the page's script swaps in.
func Live(w io.Writer, s Snapshot) error {
	return pageTmpl.ExecuteTemplate(w, "live", newPage(s))
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>onion proxy: network status</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse} td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}
code{font-size:.9em} .note{color:#555;max-width:50em}
svg text{font-size:12px;font-family:sans-serif}
.you circle{fill:#36c} .relay circle{fill:#888} .exit circle{fill:#2a2} .end circle{fill:#fff;stroke:#999;stroke-dasharray:3}
line{stroke:#999;stroke-width:2}
</style></head>
<body>
<h1>onion proxy: network status</h1>
<p class="note">This proxy's view of the network: the relays it knows and its circuits, hop by hop.
Stream destinations are never shown here: a page anyone on this machine can open must not list where you go.
The page refreshes itself every few seconds; the same facts are at <a href="/circuits">/circuits</a> and
<a href="/relays">/relays</a> (JSON), and <code>onion status</code> prints them in a terminal.</p>
<div id="live">{{template "live" .}}</div>
` + liveRefresh + `</body></html>
{{define "live"}}<p id="summary">{{len .Relays}} relays listed ({{.Exits}} exits), {{len .Circuits}} circuits open; as of {{.Now.UTC.Format "15:04:05"}} UTC.</p>
<h2>Circuits</h2>
{{if .Circuits}}<svg id="circuits" width="{{.Width}}" height="{{.Height}}" role="img" aria-label="circuits, hop by hop">
{{range .Rows}}<g class="circuit" data-id="{{.ID}}"><text x="4" y="{{.Y}}" dy="4">#{{.ID}}<title>{{.Info}}</title></text>
<line x1="{{.X1}}" y1="{{.Y}}" x2="{{.X2}}" y2="{{.Y}}"/>
{{range .Nodes}}<g class="{{.Kind}}"><circle cx="{{.X}}" cy="{{.Y}}" r="9"><title>{{.Title}}</title></circle><text x="{{.X}}" y="{{.Y}}" dy="24" text-anchor="middle">{{.Label}}</text></g>
{{end}}</g>
{{end}}</svg>
<table><tr><th>#</th><th>path</th><th>streams</th><th>sent</th><th>received</th><th>age</th></tr>
{{range .Circuits}}<tr class="circuit-row"><td>{{.ID}}</td><td>{{range $i, $h := .Path}}{{if $i}} &rarr; {{end}}<span title="{{$h.Fingerprint}} {{$h.Address}}">{{$h.Nickname}}</span>{{end}}</td><td>{{.Streams}}</td><td>{{call $.Bytes .BytesSent}}</td><td>{{call $.Bytes .BytesReceived}}</td><td>{{call $.Age .AgeSec}}</td></tr>
{{end}}</table>{{else}}<p>No circuits yet: the proxy builds one for the first request.</p>{{end}}
<h2>Relays</h2>
<table><tr><th>nickname</th><th>fingerprint</th><th>address</th><th>exit</th><th>circuits</th></tr>
{{range .Relays}}<tr class="relay-row"><td>{{.Nickname}}</td><td><code title="{{.Fingerprint}}">{{call $.Short .Fingerprint}}</code></td><td>{{.Address}}</td><td>{{if .Exit}}exit{{end}}</td><td>{{index $.Uses .Fingerprint}}</td></tr>
{{end}}</table>
{{if .Meeting}}<h2>This network's hidden server: meeting relays</h2>
<table id="meeting"><tr><th>service</th><th>meeting relay</th><th>circuit</th><th>established</th></tr>
{{range .Meeting}}<tr class="meeting-row"><td><code title="{{.Service}}">{{call $.Short .Service}}</code></td><td>{{.Nickname}}</td><td>hidden server{{range .Path}} &rarr; <span title="{{.Fingerprint}} {{.Address}}">{{.Nickname}}</span>{{end}}</td><td>{{call $.Age .AgeSec}} ago</td></tr>
{{end}}</table>{{end}}
<h2>Recent failures</h2>
{{if .Failures}}<table id="failures"><tr><th>when</th><th>what</th><th>reason</th><th>detail</th></tr>
{{range .Failures}}<tr class="failure-row"><td>{{call $.Ago .At}}</td><td>{{.What}}</td><td>{{.Reason}}</td><td><code>{{.Detail}}</code></td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}{{end}}`))

// liveRefresh is every page's script: it swaps in the live fragment at
// .Live every .Interval milliseconds; without JavaScript the page stays as
// served, readable.
const liveRefresh = `<script>
(function () {
  var live = document.getElementById("live");
  function tick() {
    fetch({{.Live}}, {cache: "no-store"}).then(function (r) {
      return r.ok ? r.text() : Promise.reject(r.status);
    }).then(function (html) { live.innerHTML = html; }, function () {}).finally(function () {
      setTimeout(tick, {{.Interval}});
    });
  }
  setTimeout(tick, {{.Interval}});
})();
</script>
`
