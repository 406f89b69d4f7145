package admin

import (
	"errors"
	"fmt"
	"io"

	"github.com/privacyvault/privacyvault/core"
	pb "github.com/privacyvault/privacyvault/proto/privacyvault/v1"
	"github.com/privacyvault/privacyvault/server/api"
)

// RetokenizeFPE implements pb.AdminServiceServer: one response per request
// batch, in order, until the caller closes its side.
func (s *Service) RetokenizeFPE(stream pb.AdminService_RetokenizeFPEServer) error {
	ctx := stream.Context()
	caller, err := s.authorize(ctx, "retokenize", "")
	if err != nil {
		return err
	}
	var class string
	var from, to uint32
	for first := true; ; first = false {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if first {
			class, from, to = req.GetClass(), req.GetFromVersion(), req.GetToVersion()
			if err := s.core.CheckClass(class); err != nil {
				if aerr := s.core.RecordAdmin(ctx, caller, "retokenize", class, err); aerr != nil {
					return aerr
				}
				return err
			}
			if from == 0 || to == 0 || from == to {
				return core.Invalid("to_version", "from_version and to_version must be two different versions")
			}
		}
		if len(req.GetItems()) > s.maxBatch {
			return &api.BatchTooLargeError{Items: len(req.GetItems()), Limit: s.maxBatch}
		}
		items := make([]core.RetokenizeItem, len(req.GetItems()))
		for i, it := range req.GetItems() {
			items[i] = core.RetokenizeItem{Token: it.GetToken(), Context: it.GetContext(), Tweak: it.GetTweak(), SubjectID: it.GetSubjectId()}
		}
		res, err := s.core.Retokenize(ctx, class, from, to, items)
		if aerr := s.core.RecordAdmin(ctx, caller, "retokenize", class, err); aerr != nil {
			return aerr
		}
		if err != nil {
			return err
		}
		out := &pb.RetokenizeFPEResponse{Pairs: make([]*pb.RetokenizePair, len(res))}
		for i, r := range res {
			p := &pb.RetokenizePair{OldToken: items[i].Token, NewToken: r.Token}
			if r.Err != nil {
				st, _ := api.Status(r.Err, fmt.Sprintf("items[%d]", i))
				p.Error = st.Proto()
			}
			out.Pairs[i] = p
		}
		if err := stream.Send(out); err != nil {
			return err
		}
	}
}
