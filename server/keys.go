package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/privacyvault/privacyvault/config"
	"github.com/privacyvault/privacyvault/kms"
	"github.com/privacyvault/privacyvault/kms/devkms"
	"github.com/privacyvault/privacyvault/kms/vault"
)

// openKeys opens the configured key provider. Vault start-up fails fast
// (within keys.vault.timeout) when Vault cannot be reached.
func openKeys(ctx context.Context, cfg *config.Config, log *slog.Logger) (kms.Provider, error) {
	if cfg.Keys.Provider != "vault" {
		return devkms.Open(filepath.Join(cfg.Server.DataDir, "devkeys"), log)
	}
	v := cfg.Keys.Vault
	address := v.Address
	if address == "" {
		address = os.Getenv("VAULT_ADDR")
	}
	auth := vault.AuthConfig{
		Method:       v.Auth.Method,
		TokenFile:    v.Auth.TokenFile,
		RoleID:       v.Auth.RoleID,
		SecretIDFile: v.Auth.SecretIDFile,
		Role:         v.Auth.Role,
		JWTFile:      v.Auth.JWTFile,
		MountPath:    v.Auth.MountPath,
	}
	if auth.TokenFile == "" {
		env := v.Auth.TokenEnv
		if env == "" {
			env = "VAULT_TOKEN"
		}
		auth.Token = os.Getenv(env)
	}
	return vault.Open(ctx, vault.Config{
		Address:      address,
		CAFile:       v.CAFile,
		Auth:         auth,
		TransitMount: v.TransitMount,
		KEKName:      v.KEKName,
		CreateKEK:    v.CreateKEK,
		KVMount:      v.KVMount,
		KVPrefix:     v.KVPrefix,
		Timeout:      v.Timeout.Std(),
	}, log)
}
