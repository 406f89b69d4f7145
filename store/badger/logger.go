package badger

import (
	"context"
	"fmt"
	"log/slog"
)

// badgerLogger forwards Badger's warnings and errors to slog. Badger's
// messages name files and levels, never keys or values.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) { b.log(slog.LevelError, f, a) }

func (b badgerLogger) Warningf(f string, a ...any) { b.log(slog.LevelWarn, f, a) }

// Infof and Debugf are dropped: Badger is chatty at those levels.
func (badgerLogger) Infof(string, ...any) {}

func (badgerLogger) Debugf(string, ...any) {}

func (b badgerLogger) log(level slog.Level, f string, a []any) {
	if b.l == nil {
		return
	}
	b.l.Log(context.Background(), level, fmt.Sprintf(f, a...), "component", "badger")
}
