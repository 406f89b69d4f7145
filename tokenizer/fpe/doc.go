// Package fpe implements the format-preserving encryption modes of NIST
// SP 800-38G Rev. 1 over AES: FF1, and FF3-1 for compatibility.
//
// A cipher encrypts a string of numerals (characters of an alphabet, or
// values below a radix of 2 to 65536) to another string of the same length
// over the same alphabet, for example a 16-digit card number to another
// 16-digit number.
//
// Security contract:
//   - Encryption is deterministic: the same key, tweak and plaintext always
//     give the same ciphertext, so equal inputs are visibly equal. The tweak
//     is public but should be unique per context (tenant, field, ...) so that
//     equal values in different contexts do not match.
//   - The domain must have at least 1,000,000 values (radix^length); shorter
//     inputs are rejected with ErrTooShort. Small domains remain open to
//     guessing and statistical attacks, so larger is better.
//   - There is no integrity protection: a modified ciphertext decrypts to
//     some other valid-looking plaintext, not an error.
//   - FF3-1 exists only to read and write data produced elsewhere: NIST's
//     2025 draft revision of SP 800-38G drops FF3/FF3-1. Use FF1 for new data.
//
// Errors never contain keys, tweaks, plaintexts or ciphertexts; they wrap
// sentinel errors (ErrTooShort, ErrInvalidInput, ...) for errors.Is.
//
// Ciphers are safe for concurrent use. On the common path (an ASCII alphabet
// and halves worth at most 2^63, e.g. up to 36 decimal digits) the string
// methods allocate only their result and avoid math/big. On amd64 with
// AES-NI, FF1 runs its rounds in assembly when each round is a single AES
// block (radix^⌈n/2⌉ <= 2^32 and a tweak of at most 11 to 14 bytes, e.g.
// 16 digits with an 8-byte tweak); build with the purego tag to use Go only.
package fpe
