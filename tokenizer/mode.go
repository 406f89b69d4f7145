package tokenizer

import "fmt"

// Mode is how a data class turns values into tokens.
type Mode string

// Token modes. Random and Deterministic are vaulted: the value is stored,
// sealed, and the token is a random reference to it. FPE is vaultless and
// reversible by any holder of the class key; Mask and Hash are one-way.
const (
	// Random gives a fresh token for every tokenize call.
	Random Mode = "random"
	// Deterministic gives one token per distinct value within a class
	// (found through a keyed HMAC index), so services can join on tokens.
	Deterministic Mode = "deterministic"
	// FPE encrypts the value with NIST FF1 (or FF3-1 for compatibility)
	// into a token of the same format; nothing is stored.
	FPE Mode = "fpe"
	// Mask returns a partially masked form, e.g. "************1111".
	Mask Mode = "mask"
	// Hash returns a keyed, deterministic, irreversible pseudonym, in the
	// class format when it has one.
	Hash Mode = "hash"
)

// ParseMode returns the mode named s.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Random, Deterministic, FPE, Mask, Hash:
		return m, nil
	}
	return "", fmt.Errorf("unknown token mode %q (want random, deterministic, fpe, mask or hash)", s)
}

// Vaulted reports whether tokens of mode m refer to a stored record.
func (m Mode) Vaulted() bool { return m == Random || m == Deterministic }

// Reversible reports whether tokens of mode m can be detokenized.
func (m Mode) Reversible() bool { return m.Vaulted() || m == FPE }

// Algorithm is the FPE cipher of an fpe class.
type Algorithm string

// FPE algorithms. FF1 is the default; FF3-1 exists only for compatibility
// with data tokenized elsewhere (NIST's 2025 draft of SP 800-38G drops FF3).
const (
	FF1  Algorithm = "ff1"
	FF31 Algorithm = "ff3-1"
)

// ParseAlgorithm returns the algorithm named s; "" means FF1.
func ParseAlgorithm(s string) (Algorithm, error) {
	switch a := Algorithm(s); a {
	case "":
		return FF1, nil
	case FF1, FF31:
		return a, nil
	}
	return "", fmt.Errorf("unknown FPE algorithm %q (want ff1 or ff3-1)", s)
}
