package client

import "context"

// DefaultMaxBatch is the server's default batch limit (server.max_batch).
const DefaultMaxBatch = 10000

// inBatches sends items in parts of at most the client's batch size, so a
// batch over the server's limit is split instead of refused. When the
// server refuses a part as too large (its limit is lower than the client
// thought), the client learns the limit and retries that part split: a
// refused call did nothing. Results come back in item order.
//
// When a part after the first fails, the results of the parts before it
// are returned with the error, and the items not done carry it as their
// error (their results are otherwise zero).
func inBatches[T, R any](ctx context.Context, c *Client, items []T, call func(context.Context, []T, int) ([]R, error), fail func(*R, error)) ([]R, error) {
	if len(items) == 0 {
		return call(ctx, items, 0) // the server says why an empty batch is wrong
	}
	var out []R
	for done := 0; done < len(items); {
		size := int(c.maxBatch.Load())
		end := min(done+size, len(items))
		res, err := call(ctx, items[done:end], done)
		if err != nil {
			if limit, ok := batchLimit(err); ok && limit < end-done {
				c.maxBatch.Store(int64(limit))
				continue
			}
			if done == 0 {
				return nil, err
			}
			rest := make([]R, len(items)-done)
			for i := range rest {
				fail(&rest[i], err)
			}
			return append(out, rest...), err
		}
		if done == 0 && end == len(items) {
			return res, nil // the usual case, one call: no copy
		}
		if out == nil {
			out = make([]R, 0, len(items))
		}
		out = append(out, res...)
		done = end
	}
	return out, nil
}
