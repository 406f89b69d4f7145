package vault

// ClientToken returns the token p currently sends to Vault, so tests can
// see a re-login happen.
func ClientToken(p *Provider) string { return p.client.Token() }
