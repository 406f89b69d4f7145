package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// RedactedMark replaces secrets in Redacted output.
const RedactedMark = "<redacted>"

// Redacted returns a copy of c with every secret replaced by RedactedMark:
// static bearer tokens and honeytokens (which must not leak to whoever
// reads the configuration). Settings that name where a secret lives (a
// file, an environment variable) are kept.
func (c *Config) Redacted() *Config {
	out := *c
	out.Callers = make([]Caller, len(c.Callers))
	for i, cr := range c.Callers {
		if cr.Token != "" {
			cr.Token = RedactedMark
		}
		out.Callers[i] = cr
	}
	out.Policy.Honeytokens = make([]Honeytoken, len(c.Policy.Honeytokens))
	for i, h := range c.Policy.Honeytokens {
		h.Token = RedactedMark
		out.Policy.Honeytokens[i] = h
	}
	return &out
}

// YAML returns c as YAML, in the file's field names.
func (c *Config) YAML() ([]byte, error) {
	b, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return b, nil
}

// Map returns c as nested maps in the file's field names, for JSON output.
func (c *Config) Map() (map[string]any, error) {
	b, err := c.YAML()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return stringKeys(m).(map[string]any), nil
}

// stringKeys makes every map key a string (unix_uids has numeric keys),
// so the result marshals as JSON.
func stringKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = stringKeys(e)
		}
		return v
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[fmt.Sprint(k)] = stringKeys(e)
		}
		return out
	case []any:
		for i, e := range v {
			v[i] = stringKeys(e)
		}
	}
	return v
}

// MarshalYAML writes d as a Go duration string ("720h0m0s").
func (d Duration) MarshalYAML() (any, error) { return d.Std().String(), nil }
