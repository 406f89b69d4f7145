// Package format parses sensitive values (card numbers, SSNs, phone numbers,
// e-mail addresses, dates, generic strings) for the fpe, mask and hash token
// modes: it decides which characters are transformed, over which alphabet, and
// which are kept in place, so that a token has the shape of its value.
//
// A Format never encrypts by itself: it hands the transformable characters,
// concatenated in order, to an Engine (FF1 in production, a keyed one-way
// function in hash mode) and puts the result back into their positions.
// Encrypt only calls Engine.Encrypt, so hash mode works with the same formats;
// Decrypt inverts Encrypt exactly when the Engine is a permutation.
//
// Formats, by Spec.Name (Mask rule in brackets):
//
//	digits        0-9 transformed, all else kept        [last 4 kept if ≥ 8 digits]
//	alphanumeric  0-9, a-z, A-Z transformed, case kept  [same rule]
//	alphabet      Spec.Alphabet transformed             [same rule]
//	credit_card   12-19 digits passing Luhn; keep_first/keep_last digits kept;
//	              the token passes Luhn and never equals the value
//	                                                    [keep_first and last 4]
//	ssn           ddd-dd-dddd or 9 digits; keep_last 0-3 [***-**-6789]
//	phone         E.164; country calling code kept      [code and last 3]
//	email         local part (and, with keep_domain false, every domain label
//	              but the TLD) transformed              [j***@example.com]
//	date          YYYY-MM-DD to another valid date in 0001-9999 [****-03-15]
//
// Rules shared by all formats:
//
//   - Separators and punctuation stay where they are.
//   - The transformed part must have at least MinDomain (10^6) possible values,
//     per NIST SP 800-38G Rev. 1; shorter values get ErrDomainTooSmall. Mask
//     has no such limit.
//   - Case is preserved exactly: under a one-case alphabet such as
//     alphanumeric's "0-9a-z", a lowercase letter or digit becomes any of
//     "0-9a-z" while an uppercase letter becomes an uppercase letter. (Folding
//     case and re-applying it afterwards would not be reversible: an uppercase
//     letter encrypted to a digit would lose its case.) So the domain of
//     "John" is 26·36³ and that of "JOHN" only 26⁴, too small.
//   - Where the valid outputs are a subset of what the Engine produces (Luhn,
//     calendar dates, mixed radices) the format cycle-walks: it re-encrypts
//     until the result is valid, which is a permutation of the valid set.
//   - Errors are *Error values wrapping a sentinel (ErrInvalidSpec,
//     ErrInvalidValue, ErrDomainTooSmall, ErrEngine, ErrCycleWalk; Engine
//     failures also wrap the Engine's error, e.g. ErrIrreversible); they never
//     contain the value or any part of it.
//
// Formats are immutable and safe for concurrent use.
package format
