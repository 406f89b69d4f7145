package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// pattern returns n bytes that differ from one length to the next.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

func stdMAC(key, msg []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// macKey.sum equals crypto/hmac for keys of every length up to beyond a
// block (longer keys are hashed first), the empty key included, and
// messages of every length across three block boundaries, on the saved
// states and on its crypto/hmac fallback alike.
func TestMACKeyMatchesCryptoHMAC(t *testing.T) {
	keyLens := []int{0, 1, 16, 31, 32, 33, 55, 56, 63, 64, 65, 100, 128, 200}
	for _, std := range []bool{false, true} {
		for _, kl := range keyLens {
			key := pattern(kl, 0x11)
			k := newMACKey(key)
			if k.std {
				t.Fatalf("newMACKey(%d-byte key) fell back to crypto/hmac: the saved-state check failed", kl)
			}
			k.std = std
			st := newMACState()
			for ml := range 3*blockSize + 2 {
				msg := pattern(ml, byte(kl))
				st.buf = append(st.buf[:0], msg...)
				got := k.sum(st)
				if want := stdMAC(key, msg); hex.EncodeToString(got[:]) != want {
					t.Errorf("HMAC(%d-byte key, %d-byte message, fallback %v) = %x, want %s", kl, ml, std, got, want)
				}
			}
		}
	}
}

// RFC 4231 test case 2, for a value not derived from crypto/hmac.
func TestMACKeyRFC4231(t *testing.T) {
	k := newMACKey([]byte("Jefe"))
	st := newMACState()
	st.buf = append(st.buf[:0], "what do ya want for nothing?"...)
	got := k.sum(st)
	const want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if hex.EncodeToString(got[:]) != want {
		t.Errorf("HMAC-SHA256(Jefe, what do ya want for nothing?) = %x, want %s", got, want)
	}
}

// The padding is SHA-256's: with it, a message of any length hashes to
// whole blocks whose last 8 bytes are the length in bits.
func TestPad(t *testing.T) {
	for n := range 2*blockSize + 1 {
		b := pad(make([]byte, n), blockSize+n)
		switch {
		case len(b)%blockSize != 0:
			t.Errorf("pad(%d bytes) = %d bytes, want whole blocks", n, len(b))
		case len(b)-n > blockSize+8 || len(b)-n < 9:
			t.Errorf("pad(%d bytes) added %d bytes, want 9 to 72", n, len(b)-n)
		case b[n] != 0x80:
			t.Errorf("pad(%d bytes)[%d] = %#x, want 0x80", n, n, b[n])
		}
	}
}

func BenchmarkMAC(b *testing.B) {
	key := pattern(32, 1)
	msg := []byte("privacyvault/audit/v1/token\x00\x00\x00\x00\x00\x00\x00\x00\x03fpe\x00\x00\x00\x00\x00\x00\x00\x104111111111111111")
	b.Run("crypto-hmac", func(b *testing.B) {
		m := hmac.New(sha256.New, key)
		var sum [sha256.Size]byte
		b.ReportAllocs()
		for b.Loop() {
			m.Reset()
			m.Write(msg)
			m.Sum(sum[:0])
		}
	})
	b.Run("saved-states", func(b *testing.B) {
		k, st := newMACKey(key), newMACState()
		b.ReportAllocs()
		for b.Loop() {
			st.buf = append(st.buf[:0], msg...)
			k.sum(st)
		}
	})
}

// When the saved states fail at run time (a state the digest does not
// load back), sum falls back to crypto/hmac on the message itself, not on
// the message with the padding the saved-state path appended to it.
func TestMACFallbackAfterFailedSavedStateHashesMessage(t *testing.T) {
	key := pattern(32, 0x22)
	for _, broken := range []string{"inner", "outer"} {
		k := newMACKey(key)
		if broken == "inner" {
			k.inner = []byte("not a saved state")
		} else {
			k.outer = []byte("not a saved state")
		}
		st := newMACState()
		for _, ml := range []int{0, 1, 40, blockSize, 2*blockSize + 3} {
			msg := pattern(ml, 5)
			st.buf = append(st.buf[:0], msg...)
			got := k.sum(st)
			if want := stdMAC(key, msg); hex.EncodeToString(got[:]) != want {
				t.Errorf("HMAC(%d-byte message, %s state broken) = %x, want %s", ml, broken, got, want)
			}
		}
	}
}
