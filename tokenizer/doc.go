// Package tokenizer holds the token modes of privacyvault and the
// primitives they share: the vaulted-token codec, value sealing with
// AES-256-GCM, and the keyed deterministic index. It knows nothing of
// storage, transport or policy; package core puts them together.
package tokenizer
