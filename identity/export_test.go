package identity

import "time"

// SetJWTReloadClock makes v's JWKS reload throttle read clock instead of
// time.Now, so tests can pass a second without sleeping.
func SetJWTReloadClock(v *JWTVerifier, clock func() time.Time) {
	v.keys.mu.Lock()
	defer v.keys.mu.Unlock()
	v.keys.clock = clock
	v.keys.lastCheck = clock()
}

// SetSPIFFEReloadClock is SetJWTReloadClock for v's CA bundle and for the
// server certificates of TLSConfig calls made after it.
func SetSPIFFEReloadClock(v *SPIFFEVerifier, clock func() time.Time) {
	v.clock = clock
	v.bundle.mu.Lock()
	defer v.bundle.mu.Unlock()
	v.bundle.clock = clock
	v.bundle.lastCheck = clock()
}
