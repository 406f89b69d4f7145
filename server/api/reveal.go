package api

import (
	"github.com/privacyvault/privacyvault/policy"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
)

// RevealLevel maps a policy level to its API enum.
func RevealLevel(r policy.Reveal) pb.RevealLevel {
	switch r {
	case policy.Plain:
		return pb.RevealLevel_REVEAL_LEVEL_PLAIN
	case policy.Masked:
		return pb.RevealLevel_REVEAL_LEVEL_MASKED
	case policy.Redacted:
		return pb.RevealLevel_REVEAL_LEVEL_REDACTED
	}
	return pb.RevealLevel_REVEAL_LEVEL_UNSPECIFIED
}
