package client

import (
	"context"

	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// KeyStatus returns every class's key versions and record counts (admin
// identities only).
func (c *Client) KeyStatus(ctx context.Context) ([]*pb.ClassKeyStatus, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).GetKeyStatus(ctx, &pb.GetKeyStatusRequest{})
	return resp.GetClasses(), err
}

// RotateKey adds a data-key version to class and makes it current.
func (c *Client) RotateKey(ctx context.Context, class string) (*pb.ClassKeyStatus, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).RotateKey(ctx, &pb.RotateKeyRequest{Class: class})
	return resp.GetStatus(), err
}

// RewrapKeys re-wraps every stored data key under the newest KEK version
// and returns how many it re-wrapped.
func (c *Client) RewrapKeys(ctx context.Context) (uint32, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).RewrapKeys(ctx, &pb.RewrapKeysRequest{})
	return resp.GetRewrapped(), err
}

// StartReencrypt starts moving class's records to its current key version.
func (c *Client) StartReencrypt(ctx context.Context, class string) (*pb.ReencryptJob, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).StartReencrypt(ctx, &pb.StartReencryptRequest{Class: class})
	return resp.GetJob(), err
}

// Reencrypt returns the progress of class's re-encryption job.
func (c *Client) Reencrypt(ctx context.Context, class string) (*pb.ReencryptJob, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).GetReencrypt(ctx, &pb.GetReencryptRequest{Class: class})
	return resp.GetJob(), err
}

// RetireKeyVersions sets class's minimum decryption version to below.
func (c *Client) RetireKeyVersions(ctx context.Context, class string, below uint32) (*pb.ClassKeyStatus, error) {
	resp, err := pb.NewAdminServiceClient(c.conn).RetireKeyVersions(ctx, &pb.RetireKeyVersionsRequest{Class: class, Below: below})
	return resp.GetStatus(), err
}
