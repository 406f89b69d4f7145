//go:build amd64 && !purego

package fpe

// useAsm reports whether ff1_amd64.s can run: it needs AES-NI and SSE4.1
// (PINSRQ), both flagged in CPUID leaf 1 ECX.
var useAsm = hasAESNI()

func hasAESNI() bool {
	if maxLeaf, _, _, _ := cpuid(0, 0); maxLeaf < 1 {
		return false
	}
	_, _, ecx, _ := cpuid(1, 0)
	const sse41, aesni = 1 << 19, 1 << 25
	return ecx&sse41 != 0 && ecx&aesni != 0
}

// cpuid executes CPUID with EAX = leaf and ECX = sub.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// ff1Rounds64Asm runs 2·pairs FF1 rounds for rounds64Asm, with lo pointing
// to the first of their 2·pairs block words; see ff1_amd64.s.
//
//go:noescape
func ff1Rounds64Asm(rk *[15][16]byte, nr int, lo *uint64, pairs int, hi, mA, gA, mB, gB, p, q uint64, enc bool) (p2, q2 uint64)
