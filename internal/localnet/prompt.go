package localnet

import (
	"net"
	"os"
	"path/filepath"

	"onion/internal/prompt"
)

// promptSocket is the socket in up's data dir through which the proxy asks
// on up's terminal (its own stdin is not one).
const promptSocket = "prompt.sock"

// promptLabel marks the proxy's questions on up's terminal.
const promptLabel = "[proxy asks] "

// servePrompts opens the prompt socket when up has a terminal, and returns
// the proxy's flags that point at it. Without a terminal, or if the socket
// cannot be made, the proxy gets none and its logins fail at once, saying
// how else to log in.
func (n *network) servePrompts() []string {
	if n.cfg.Prompt == nil {
		return nil
	}
	path := filepath.Join(n.cfg.DataDir, promptSocket)
	ln, err := prompt.Listen(path)
	if err != nil {
		n.log.Warn("no prompt socket: the proxy cannot ask for logins on this terminal", "err", err)
		return nil
	}
	n.prompts = ln
	go prompt.Serve(ln, n.cfg.Prompt, promptLabel)
	return []string{"--prompt-socket", path}
}

// closePrompts closes the prompt socket, withdrawing any open question.
func (n *network) closePrompts() {
	if n.prompts == nil {
		return
	}
	n.prompts.Close()
	if ua, ok := n.prompts.Addr().(*net.UnixAddr); ok {
		os.Remove(ua.Name)
	}
}
