package badger

import bdb "github.com/dgraph-io/badger/v4"

// SidecarOptions returns the Badger options Open uses for a store in dir,
// so that tools/bench can measure Badger alone as the store configures it
// (its batch floor) without a copy of them drifting away.
func SidecarOptions(dir string) (bdb.Options, error) {
	return sidecarOptions(Options{Dir: dir})
}
