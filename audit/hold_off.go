//go:build !journalhold

package audit

// holdFileWrites is false in every real build: journaled lines are written
// to the file at once (and fsync'd later).
const holdFileWrites = false
