package bench

// A second onion proxy on the network under test, started with
// --wait-connected: it answers every SOCKS CONNECT only once the exit has
// connected, as Tor does. The same warm GET through it and through the
// network's own proxy shows what early replies (PROTOCOL.md §5.2) save.

import (
	"context"
	"fmt"
	"os"
	"time"

	"onion/internal/launch"
	"onion/internal/upinfo"
)

// waitProxyReadyTimeout bounds the second proxy's start: the network is up
// already, so it only fetches the relay list.
const waitProxyReadyTimeout = 30 * time.Second

// startWaitProxy runs exe proxy --wait-connected against the network info
// describes and waits for its ready line.
func startWaitProxy(ctx context.Context, exe string, info *upinfo.Info) (*hopProc, error) {
	c := launch.New("proxy --wait-connected", exe, "--log-level", "warn", "proxy",
		"--socks", "127.0.0.1:0", "--status", "", "--open-urls", "never", "--wait-connected",
		"--lab", // the network's relays are all on 127.0.0.1
		"--directory", info.Directory, "--directory-key", info.DirectoryKey)
	c.Cmd.Env = withoutOnionEnv(os.Environ())
	c.ReadyTimeout = waitProxyReadyTimeout
	fields, err := c.Start(ctx)
	if err != nil {
		return nil, err
	}
	if fields["socks"] == "" {
		c.Stop(hopStopTimeout)
		return nil, fmt.Errorf("proxy --wait-connected: no socks= in its ready line")
	}
	return &hopProc{child: c, addr: fields["socks"]}, nil
}
