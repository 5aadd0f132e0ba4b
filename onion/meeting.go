package onion

// EstablishTag prefixes what a hidden service signs to ESTABLISH itself at a
// meeting relay (PROTOCOL.md §11.3).
const EstablishTag = "onion-meet-establish-v1"

// EstablishSignedBytes is the byte string a service signs with its key to
// establish at the relay whose ed25519 identity key is relayID: naming the
// relay keeps one ESTABLISH from being replayed at another.
func EstablishSignedBytes(relayID, serviceKey []byte) []byte {
	b := make([]byte, 0, len(EstablishTag)+len(relayID)+len(serviceKey))
	b = append(b, EstablishTag...)
	b = append(b, relayID...)
	return append(b, serviceKey...)
}
