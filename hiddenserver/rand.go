package hiddenserver

import (
	"crypto/rand"
	"math/big"
)

func randIntn(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic("hiddenserver: entropy source failed: " + err.Error())
	}
	return int(v.Int64())
}
