package format

// luhnSum returns the Luhn sum of the ASCII digits d; doubleLast says whether
// the rightmost digit is doubled (true when d is a payload without its check
// digit).
func luhnSum(d []byte, doubleLast bool) int {
	sum, double := 0, doubleLast
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum
}

// luhnValid reports whether the ASCII digits d, check digit last, pass Luhn.
func luhnValid(d []byte) bool { return luhnSum(d, false)%10 == 0 }

// luhnCheckDigit returns the check digit that makes payload+digit pass Luhn.
func luhnCheckDigit(payload []byte) byte {
	return byte('0' + (10-luhnSum(payload, true)%10)%10)
}

// increment adds 1 to the decimal string s, wrapping 99…9 to 00…0.
func increment(s string) string {
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != '9' {
			b[i]++
			break
		}
		b[i] = '0'
	}
	return string(b)
}

// decrement subtracts 1 from the decimal string s, wrapping 00…0 to 99…9.
func decrement(s string) string {
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != '0' {
			b[i]--
			break
		}
		b[i] = '9'
	}
	return string(b)
}
