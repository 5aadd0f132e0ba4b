package localnet

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"onion/internal/launch"
)

// startPart starts one part and says so on up's log: "starting NAME", then
// "NAME ready" with how long it took, so that a slow start shows where it
// waits. Relays start side by side, announced together: for them relays
// counts those ready, and each ready line says how many of how many are.
func (n *network) startPart(ctx context.Context, c *launch.Child, relays *atomic.Int32) (map[string]string, error) {
	if relays == nil {
		n.log.Info("starting " + c.Name)
	}
	start := time.Now()
	ready, err := c.Start(ctx)
	if err != nil {
		return ready, err
	}
	took := time.Since(start).Round(time.Millisecond)
	if relays != nil {
		n.log.Info(c.Name+" ready", "relays_ready", fmt.Sprintf("%d/%d", relays.Add(1), n.cfg.Relays), "took", took)
	} else {
		n.log.Info(c.Name+" ready", "took", took)
	}
	return ready, nil
}
