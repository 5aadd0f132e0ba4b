package circuit

import (
	"testing"
	"testing/synctest"
)

// TestFlowRecvNeverBlocks: Count returns at once even while sending a
// CIRCUIT_SENDME blocks (a full link), and every SENDME due is sent once
// the link frees, one per SendmeInc cells.
func TestFlowRecvNeverBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		sent := 0
		r := NewFlowRecv(4, func() error {
			<-release
			sent++ // one drainer at a time: no race
			return nil
		})
		for range 40 {
			r.Count() // would deadlock here if it sent inline
		}
		synctest.Wait()
		if sent != 0 {
			t.Fatalf("%d SENDMEs sent through a blocked link", sent)
		}
		close(release)
		synctest.Wait()
		if sent != 10 {
			t.Fatalf("%d SENDMEs for 40 cells, want 10", sent)
		}
		var nilRecv *FlowRecv
		nilRecv.Count() // no congestion control: counts nothing
	})
}
