// Package durable writes small files so that they survive a crash once the
// call returns: the file's data and its directory entry are both synced.
package durable

import (
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile creates path with os.O_WRONLY|os.O_CREATE|flag and perm, writes
// data, and syncs the file and then its directory before returning. Pass
// os.O_EXCL to refuse an existing file (the error then matches
// fs.ErrExist) or os.O_TRUNC to replace it. On error the file may exist
// with part of data.
func WriteFile(path string, data []byte, flag int, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs dir, so that entries created, renamed or removed in it
// are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
