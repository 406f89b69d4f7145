//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// AES rounds 1 to nr on X0, with the round keys in X1-X14 as
// aesSchedule lays them out: shorter keys start at X3 (AES-192) or X5
// (AES-128).
#define AES128 \
	AESENC X5, X0; AESENC X6, X0; AESENC X7, X0; AESENC X8, X0; \
	AESENC X9, X0; AESENC X10, X0; AESENC X11, X0; AESENC X12, X0; \
	AESENC X13, X0; AESENCLAST X14, X0
#define AES192 AESENC X3, X0; AESENC X4, X0; AES128
#define AES256 AESENC X1, X0; AESENC X2, X0; AES192

// masks holds the PSHUFB controls of BLOCK (a 32-byte symbol, so both are
// 16-byte aligned as SSE memory operands must be): at 0, NUM(B)'s four
// low bytes, most significant first, to block bytes 12 to 15 and zeros
// elsewhere; at 16, block bytes 7 to 0 to bytes 0 to 7, so MOVQ reads y
// (the first 8 bytes as a big-endian number).
DATA masks<>+0(SB)/8, $0x8080808080808080
DATA masks<>+8(SB)/8, $0x0001020380808080
DATA masks<>+16(SB)/8, $0x0001020304050607
DATA masks<>+24(SB)/8, $0x8080808080808080
GLOBL masks<>(SB), RODATA|NOPTR, $32

// BLOCK runs AES rounds 1 to nr on the block R14 || LO(SI) ⊕ NUM(B),
// with NUM(B) = X in its last bytes (X < 2^(8b), so big-endian it fills
// Q's last b bytes), which is CIPH(P) ⊕ Q ⊕ round key 0, and sets AX to
// y. X is the Feistel chain, so every cycle from AX to X counts ten
// times: the byte swaps are PSHUFBs (one cycle; BSWAP takes two) and X
// joins the block, built beforehand off the chain, in one PXOR (PINSRQ
// takes three).
#define BLOCK(X, LO, AES) \
	MOVQ   X, X15; \
	PSHUFB masks<>+0(SB), X15; \
	MOVQ   R14, X0; \
	PINSRQ $1, LO(SI), X0; \
	PXOR   X15, X0; \
	AES; \
	PSHUFB masks<>+16(SB), X0; \
	MOVQ   X0, AX

// ENC sets P = (P + y) mod M for y in AX, with G = ⌊(2^64-1)/M⌋.
//
// Barrett reduction: q = ⌊y·G/2^64⌋ is ⌊y/M⌋ or one less, so
// s = P + y - q·M is in [0, 3M) and the result is s, s-M or s-2M. The three
// are formed from P + y while MULQ runs (mod 2^64: P + y may wrap, the
// results are exact) and finished by subtracting q·M. They lie in
// [-2M, 3M) with M <= 2^32, so the sign flag of s-M and of s-2M says
// which to keep.
#define ENC(P, M, G) \
	ADDQ    AX, P; \
	MOVQ    P, CX; \
	SUBQ    M, CX; \
	MOVQ    CX, BX; \
	SUBQ    M, BX; \
	MULQ    G; \
	IMULQ   M, DX; \
	SUBQ    DX, P; \
	SUBQ    DX, CX; \
	CMOVQPL CX, P; \
	SUBQ    DX, BX; \
	CMOVQPL BX, P

// DEC sets P = (P - y) mod M like ENC, from s = P + 2M - (y - q·M), which
// is in [1, 3M).
#define DEC(P, M, G) \
	SUBQ    AX, P; \
	MOVQ    P, BX; \
	LEAQ    (P)(M*1), CX; \
	LEAQ    (P)(M*2), P; \
	MULQ    G; \
	IMULQ   M, DX; \
	ADDQ    DX, P; \
	ADDQ    DX, CX; \
	CMOVQPL CX, P; \
	ADDQ    DX, BX; \
	CMOVQPL BX, P

// Two Feistel rounds, with (mA, gA) then (mB, gB). A round leaves c in
// p's register, which makes it q for the next round: p and q trade
// registers every round and are back in place after two.
#define ENC_PAIR(AES) \
	BLOCK(R9, 0, AES); ENC(R8, R10, R11); \
	BLOCK(R8, 8, AES); ENC(R9, R12, R13)
#define DEC_PAIR(AES) \
	BLOCK(R9, 0, AES); DEC(R8, R10, R11); \
	BLOCK(R8, 8, AES); DEC(R9, R12, R13)

// func ff1Rounds64Asm(rk *[15][16]byte, nr int, lo *uint64, pairs int, hi, mA, gA, mB, gB, p, q uint64, enc bool) (p2, q2 uint64)
//
// 2·pairs FF1 Feistel rounds (all ten, or a run of them) when each is one
// AES block (see rounds64Asm). Round k computes, for (m, g) = (mA, gA) on
// even k and (mB, gB) on odd k,
//
//	y    = first 8 bytes of AES(hi || lo[k] ⊕ NUM(q)) as big-endian,
//	       skipping the round key 0 xor, which hi and lo include
//	c    = (p + y) mod m (enc) or (p - y) mod m (!enc)
//	p, q = q, c
//
// It requires AES-NI, SSE4.1 and m <= 2^32.
//
// Registers: X1-X14 round keys 1 to nr, X0 the block, X15 NUM(q); R14
// hi; R8 p and R9 q (they trade roles every round); R10-R13 mA, gA, mB,
// gB; SI walks lo up to DI; AX, BX, CX, DX scratch. (ABI0 code may use
// R14 and X15: the wrapper that calls it restores them for Go.)
TEXT ·ff1Rounds64Asm(SB), NOSPLIT, $0-112
	MOVQ  rk+0(FP), AX
	MOVOU 16(AX), X1
	MOVOU 32(AX), X2
	MOVOU 48(AX), X3
	MOVOU 64(AX), X4
	MOVOU 80(AX), X5
	MOVOU 96(AX), X6
	MOVOU 112(AX), X7
	MOVOU 128(AX), X8
	MOVOU 144(AX), X9
	MOVOU 160(AX), X10
	MOVOU 176(AX), X11
	MOVOU 192(AX), X12
	MOVOU 208(AX), X13
	MOVOU 224(AX), X14
	MOVQ  lo+16(FP), SI
	MOVQ  pairs+24(FP), DI
	SHLQ  $4, DI
	ADDQ  SI, DI
	MOVQ  hi+32(FP), R14
	MOVQ  mA+40(FP), R10
	MOVQ  gA+48(FP), R11
	MOVQ  mB+56(FP), R12
	MOVQ  gB+64(FP), R13
	MOVQ  p+72(FP), R8
	MOVQ  q+80(FP), R9

	// One loop per key size and direction keeps branches out of the
	// rounds.
	MOVQ nr+8(FP), AX
	CMPB enc+88(FP), $0
	JEQ  decrypt
	CMPQ AX, $12
	JB   enc128
	JEQ  enc192

enc256:
	ENC_PAIR(AES256)
	ADDQ $16, SI
	CMPQ SI, DI
	JNE  enc256
	JMP  done

enc192:
	ENC_PAIR(AES192)
	ADDQ $16, SI
	CMPQ SI, DI
	JNE  enc192
	JMP  done

enc128:
	ENC_PAIR(AES128)
	ADDQ $16, SI
	CMPQ SI, DI
	JNE  enc128
	JMP  done

decrypt:
	CMPQ AX, $12
	JB   dec128
	JEQ  dec192

dec256:
	DEC_PAIR(AES256)
	ADDQ $16, SI
	CMPQ SI, DI
	JNE  dec256
	JMP  done

dec192:
	DEC_PAIR(AES192)
	ADDQ $16, SI
	CMPQ SI, DI
	JNE  dec192
	JMP  done

dec128:
	DEC_PAIR(AES128)
	ADDQ $16, SI
	CMPQ SI, DI
	JNE  dec128

done:
	MOVQ R8, p2+96(FP)
	MOVQ R9, q2+104(FP)
	RET
