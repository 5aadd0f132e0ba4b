package hiddenserver

// HTTP on virtual port 80: the index page, /echo and /open/NAME.

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"onion/onion"
	"onion/onion/circuit"
)

// MaxEchoBody bounds what /echo reads.
const MaxEchoBody = 16 << 20

type ctxKey struct{}

// web serves HTTP over streams: a listener that yields the streams handed
// to it, and one http.Server.
type web struct {
	s     *Server
	ln    *streamListener
	srv   *http.Server
	start sync.Once
}

func newWeb(s *Server) *web {
	w := &web{s: s, ln: newStreamListener()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", w.index)
	mux.HandleFunc("/echo", w.echo)
	mux.HandleFunc("GET /open/{name}", w.open)
	w.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, ctxKey{}, c)
		},
		ErrorLog: nil,
	}
	return w
}

func (w *web) serve(st *circuit.Stream) {
	w.start.Do(func() { go w.srv.Serve(w.ln) })
	if !w.ln.push(st) {
		st.Close()
	}
}

func (w *web) close() {
	w.srv.Close()
	w.ln.Close()
}

var indexPage = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>onion hidden server</title></head>
<body>
<h1>onion hidden server</h1>
<p>You reached this page through three relays of your own and three of the service's, joined at a meeting relay that cannot read it. This server does not know your address, and you do not know its.</p>
<h2>Echo</h2>
<p><code>POST /echo</code> answers with the body you send; <code>GET /echo?msg=hello</code> with <code>msg</code>. Virtual port 7 echoes raw bytes.</p>
<form action="/echo" method="get"><input name="msg" value="hello"> <button>echo</button></form>
<h2>Links</h2>
<p>Each link answers with a URL and asks your proxy to open it in your browser (if its <code>--open-urls</code> setting allows). A browser outside the onion proxy connects directly and reveals your address to that site.</p>
<ul>{{range .}}<li><a href="/open/{{.}}">/open/{{.}}</a></li>{{end}}</ul>
</body></html>
`))

func (w *web) index(rw http.ResponseWriter, r *http.Request) {
	names := make([]string, 0, len(w.s.cfg.Links))
	for n := range w.s.cfg.Links {
		names = append(names, n)
	}
	sort.Strings(names)
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	indexPage.Execute(rw, names)
}

func (w *web) echo(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "application/octet-stream")
	switch r.Method {
	case http.MethodGet:
		io.WriteString(rw, r.URL.Query().Get("msg"))
	case http.MethodPost, http.MethodPut:
		// Full duplex: we answer while the body still arrives. Without it the
		// server discards the unread rest of a body once the reply starts.
		if err := http.NewResponseController(rw).EnableFullDuplex(); err != nil {
			w.s.logger.Info("echo: full duplex unavailable", "err", err)
		}
		if r.ContentLength > MaxEchoBody {
			http.Error(rw, fmt.Sprintf("echo: body larger than %d bytes", MaxEchoBody), http.StatusRequestEntityTooLarge)
			return
		}
		if _, err := io.Copy(rw, http.MaxBytesReader(rw, r.Body, MaxEchoBody)); err != nil {
			w.s.logger.Info("echo: copy ended early", "err", err)
		}
	default:
		rw.Header().Set("Allow", "GET, POST, PUT")
		http.Error(rw, "echo takes GET ?msg= or POST", http.StatusMethodNotAllowed)
	}
}

func (w *web) open(rw http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	raw, ok := w.s.cfg.Links[name]
	if !ok {
		http.Error(rw, fmt.Sprintf("no link named %q; see / for the list", name), http.StatusNotFound)
		return
	}
	if st, ok := r.Context().Value(ctxKey{}).(*circuit.Stream); ok {
		if err := st.SendControl(onion.RelayURL, []byte(raw)); err != nil {
			w.s.logger.Info("could not send URL reply", "err", err)
		}
	}
	w.s.logger.Info("URL reply sent", "link", name)
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(rw, raw+"\n")
}

// streamListener is a net.Listener whose connections are pushed to it.
type streamListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newStreamListener() *streamListener {
	return &streamListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *streamListener) push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *streamListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *streamListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *streamListener) Addr() net.Addr { return circuit.StreamAddr("hidden:80") }
