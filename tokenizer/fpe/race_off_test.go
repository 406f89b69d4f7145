//go:build !race

package fpe

//lint:file-ignore U1000 raceEnabled is read by ff1_asm_test.go, which purego builds leave out.

const raceEnabled = false
