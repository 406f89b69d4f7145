package fpe

import (
	"encoding/binary"
	"math/bits"
)

// Decimal strings (alphabet "0123456789": card numbers, account numbers,
// phone numbers) are the common case, so they get SWAR conversions that
// handle eight digits per 64-bit word instead of one digit per multiply.

const decimalAlphabet = "0123456789"

// zeros8 is eight ASCII zeros as a word.
const zeros8 = 0x3030303030303030

// load8 reads s[i:i+8] as a little-endian word (compiled to one load).
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// isDigits8 reports whether all eight bytes of w are ASCII digits.
func isDigits8(w uint64) bool {
	return w&0xF0F0F0F0F0F0F0F0|(w+0x0606060606060606)&0xF0F0F0F0F0F0F0F0>>4 == 0x3333333333333333
}

// value8 returns the value of eight ASCII digits, first byte (lowest
// address) most significant, by combining digit pairs, then pairs of pairs.
func value8(w uint64) uint64 {
	w -= 0x3030303030303030
	w = (w*10 + w>>8) & 0x00FF00FF00FF00FF
	w = (w*100 + w>>16) & 0x0000FFFF0000FFFF
	return (w*10000 + w>>32) & 0xFFFFFFFF
}

// digits8 returns x < 10^8 as eight ASCII digits, most significant in the
// lowest byte: split into 4+4, 2+2 and 1+1 digit lanes with
// multiply-shift divisions that are exact in range. Each split puts
// quotient q and remainder w - q·d of a lane at once as
// w<<k - q·(d<<k - 1), which is q | (w-q·d)<<k, one step shorter.
func digits8(x uint64) uint64 {
	hi := uint64(uint32(x) / 10000)
	w := x<<32 - hi*(10000<<32-1)
	q := (w * 5243 >> 19) & 0x0000007F0000007F // lane/100, lanes < 10^4
	w = w<<16 - q*(100<<16-1)
	q = (w * 103 >> 10) & 0x000F000F000F000F // lane/10, lanes < 100
	w = w<<8 - q*(10<<8-1)
	return w + 0x3030303030303030
}

// parseDecimal returns the value of the decimal string s (at most 19
// digits), most significant first, or false if s has a non-digit.
// With rev it reads s least significant first instead (FF3's NUM(REV(X))).
func parseDecimal(s string, rev bool) (uint64, bool) {
	var x uint64
	ok := true
	head := len(s) % 8
	for i := 0; i < head; i++ {
		j := i
		if rev {
			j = len(s) - 1 - i
		}
		d := uint64(s[j]) - '0'
		ok = ok && d < 10
		x = x*10 + d
	}
	for i := head; i < len(s); i += 8 {
		var w uint64
		if rev {
			w = bits.ReverseBytes64(load8(s, len(s)-i-8))
		} else {
			w = load8(s, i)
		}
		ok = ok && isDigits8(w)
		x = x*100000000 + value8(w)
	}
	return x, ok
}

// putDecimal writes x < 10^len(dst) to dst as decimal digits, most
// significant first, or least significant first with rev.
func putDecimal(dst []byte, x uint64, rev bool) {
	m := len(dst)
	for k := 0; k+8 <= m; k += 8 {
		lo := x // x < 10^8 if these are the last digits: skip the divide
		if k+8 < m {
			q := x / 100000000
			lo, x = x-q*100000000, q
		}
		w := digits8(lo)
		if rev {
			binary.LittleEndian.PutUint64(dst[k:], bits.ReverseBytes64(w))
		} else {
			binary.LittleEndian.PutUint64(dst[m-k-8:], w)
		}
	}
	for k := m - m%8; k < m; k++ {
		q := x / 10
		d := byte(x-q*10) + '0'
		x = q
		if rev {
			dst[k] = d
		} else {
			dst[m-1-k] = d
		}
	}
}
