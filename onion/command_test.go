package onion_test

import (
	"fmt"
	"strings"
	"testing"

	"onion/onion"
)

// TestEnumStrings: every named value of every wire enum has its own name
// (so logs never print two reasons the same way), and an unknown value
// prints its number instead of an empty string.
func TestEnumStrings(t *testing.T) {
	for _, tc := range []struct {
		typ     string
		known   []fmt.Stringer
		unknown fmt.Stringer
		numeric string
	}{
		{"Command", []fmt.Stringer{onion.CmdCreate, onion.CmdCreated, onion.CmdRelay, onion.CmdDestroy},
			onion.Command(0), "Command(0)"},
		{"DestroyReason", []fmt.Stringer{onion.DestroyNone, onion.DestroyProtocol, onion.DestroyInternal,
			onion.DestroyRequested, onion.DestroyLayer, onion.DestroyWrongKey, onion.DestroyConnectFail,
			onion.DestroyLinkClosed, onion.DestroyTimeout, onion.DestroyResource, onion.DestroyNotListed},
			onion.DestroyReason(200), "reason(200)"},
		{"LayerKind", []fmt.Stringer{onion.KindMessage, onion.KindForward}, onion.LayerKind(3), "LayerKind(3)"},
		{"RelayCmd", []fmt.Stringer{onion.RelayExtend, onion.RelayExtended, onion.RelayExtendFailed,
			onion.RelayBegin, onion.RelayConnected, onion.RelayData, onion.RelayEnd, onion.RelaySendme},
			onion.RelayCmd(0), "RelayCmd(0)"},
		{"EndReason", []fmt.Stringer{onion.EndDone, onion.EndMisc, onion.EndResolve, onion.EndRefused,
			onion.EndExitPolicy, onion.EndTimeout, onion.EndUnreachable, onion.EndProtocol, onion.EndReset, onion.EndResource},
			onion.EndReason(0), "EndReason(0)"},
	} {
		seen := map[string]bool{}
		for _, v := range tc.known {
			s := v.String()
			if s == "" || seen[s] || strings.Contains(s, "(") {
				t.Errorf("%s %#v: String() = %q (empty, duplicate or numeric)", tc.typ, v, s)
			}
			seen[s] = true
		}
		if got := tc.unknown.String(); got != tc.numeric {
			t.Errorf("%s unknown: String() = %q, want %q", tc.typ, got, tc.numeric)
		}
	}
}

// TestWireEnumValues pins the numbers that go on the wire.
func TestWireEnumValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  uint8
		want uint8
	}{
		{"CmdCreate", uint8(onion.CmdCreate), 1}, {"CmdCreated", uint8(onion.CmdCreated), 2},
		{"CmdRelay", uint8(onion.CmdRelay), 3}, {"CmdDestroy", uint8(onion.CmdDestroy), 4},
		{"KindMessage", uint8(onion.KindMessage), 1}, {"KindForward", uint8(onion.KindForward), 2},
		{"RelayExtend", uint8(onion.RelayExtend), 1}, {"RelayExtended", uint8(onion.RelayExtended), 2},
		{"RelayExtendFailed", uint8(onion.RelayExtendFailed), 3}, {"RelayBegin", uint8(onion.RelayBegin), 4},
		{"RelayConnected", uint8(onion.RelayConnected), 5}, {"RelayData", uint8(onion.RelayData), 6},
		{"RelayEnd", uint8(onion.RelayEnd), 7}, {"RelaySendme", uint8(onion.RelaySendme), 8},
		{"DestroyWrongKey", uint8(onion.DestroyWrongKey), 5}, {"DestroyLayer", uint8(onion.DestroyLayer), 4},
		{"DestroyNotListed", uint8(onion.DestroyNotListed), 10},
		{"EndDone", uint8(onion.EndDone), 1}, {"EndReset", uint8(onion.EndReset), 9},
		{"EndResource", uint8(onion.EndResource), 10},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}
