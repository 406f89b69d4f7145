//go:build journalhold

package audit

// holdFileWrites, in a binary built with -tags journalhold (tests only),
// journals every batch of small events (whether or not its sync is
// shared, and waiting out a busy journal) and holds the lines back from
// the file until its next sync, so that a kill -9 leaves the file behind
// the journal the way only a power cut would otherwise: the crash tests
// use it to show that Open brings the lines back from the journal.
const holdFileWrites = true
