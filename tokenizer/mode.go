package tokenizer

import "fmt"

// Mode is how a data class turns values into tokens.
type Mode string

// Token modes. Random and Deterministic are vaulted: the value is stored,
// sealed, and the token is a random reference to it.
const (
	// Random gives a fresh token for every tokenize call.
	Random Mode = "random"
	// Deterministic gives one token per distinct value within a class
	// (found through a keyed HMAC index), so services can join on tokens.
	Deterministic Mode = "deterministic"
)

// ParseMode returns the mode named s.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Random, Deterministic:
		return m, nil
	}
	return "", fmt.Errorf("unknown token mode %q (want random or deterministic)", s)
}

// Vaulted reports whether tokens of mode m refer to a stored record.
func (m Mode) Vaulted() bool { return m == Random || m == Deterministic }
