package format

// derangement turns a permutation P of a finite set S (|S| ≥ 2) into a
// permutation f of S without fixed points, so a token never equals its value.
//
// Cycle-walking alone cannot do this: if x is a fixed point of P (P(x) = x,
// which for a random permutation of S happens to about one element of S),
// walking on from x only ever returns x. And f cannot simply equal P elsewhere,
// because P already uses every other output. Instead, with F the fixed points
// of P and next/prev a cyclic order of S, f = P∘τ, where τ rotates each maximal
// run x1…xk of consecutive fixed points together with the element x(k+1) after
// it (x1→x2→…→xk→x(k+1)→x1) and is the identity elsewhere. Then
//
//	f(xi) = P(x(i+1)) ≠ xi,   f(x(k+1)) = P(x1) = x1 ≠ x(k+1),   f(y) = P(y) ≠ y.
//
// encrypt evaluates P only forwards (one-way engines work) and costs two
// evaluations of P; decrypt costs one of P⁻¹ and one of P. Runs longer than one
// element are rare (about 1/|S|² per element); walking them is bounded by MaxWalk.
type derangement struct {
	name string
	perm func(string) (string, error) // P
	inv  func(string) (string, error) // P⁻¹
	next func(string) string          // successor in S, cyclic
	prev func(string) string          // predecessor in S, cyclic
}

func (d derangement) fixed(x string) (bool, error) {
	y, err := d.perm(x)
	return y == x, err
}

// encrypt returns f(x).
func (d derangement) encrypt(x string) (string, error) {
	y, err := d.perm(x)
	if err != nil {
		return "", err
	}
	if y == x { // x = xi: f(x) = P(next(x))
		out, err := d.perm(d.next(x))
		if err != nil {
			return "", err
		}
		if out == x { // impossible for a permutation, i.e. a one-way engine
			return "", &Error{Format: d.name, Reason: "engine output maps back to its input; it is not a permutation", Err: ErrEngine}
		}
		return out, nil
	}
	p := d.prev(x)
	if fp, err := d.fixed(p); err != nil || !fp {
		return y, err // the common case: τ(x) = x
	}
	// x = x(k+1): f(x) = P(x1) = x1, the start of the run ending at p.
	for range MaxWalk {
		q := d.prev(p)
		fq, err := d.fixed(q)
		if err != nil {
			return "", err
		}
		if !fq {
			return p, nil
		}
		p = q
	}
	return "", walkError(d.name)
}

// decrypt returns f⁻¹(y) = τ⁻¹(P⁻¹(y)).
func (d derangement) decrypt(y string) (string, error) {
	z, err := d.inv(y)
	if err != nil {
		return "", err
	}
	p := d.prev(z)
	fp, err := d.fixed(p)
	if err != nil {
		return "", err
	}
	switch {
	case fp: // z = x(i+1) for i = 1…k
		return p, nil
	case y != z: // z is no fixed point and follows none: τ(z) = z
		return z, nil
	}
	// z = x1, a fixed point starting a run: the value was x(k+1).
	n := d.next(z)
	for range MaxWalk {
		fn, err := d.fixed(n)
		if err != nil {
			return "", err
		}
		if !fn {
			return n, nil
		}
		n = d.next(n)
	}
	return "", walkError(d.name)
}
