package badger

// Sizes returns the database's size on disk by part: the LSM tree (keys,
// small values) and the value log. Badger refreshes these figures about
// once a minute, so they are cheap to read on every metrics scrape.
func (s *Store) Sizes() map[string]int64 {
	lsm, vlog := s.db.Size()
	return map[string]int64{"lsm": lsm, "vlog": vlog}
}
