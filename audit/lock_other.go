//go:build !unix

package audit

import "os"

// lockFile does nothing where flock is unavailable; callers must then make
// sure only one process opens a log directory.
func lockFile(*os.File) error { return nil }
