//go:build !amd64 || purego

package fpe

// useAsm is false: there is no assembly here, so FF1.ks stays nil and
// rounds64Asm is never called.
const useAsm = false

func ff1Rounds64Asm(rk *[15][16]byte, nr int, lo *uint64, pairs int, hi, mA, gA, mB, gB, p, q uint64, enc bool) (p2, q2 uint64) {
	panic("fpe: no assembly FF1 rounds on this platform")
}
