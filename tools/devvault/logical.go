package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/vault/sdk/logical"
)

// maxBody caps request bodies like Vault's default max_request_size.
const maxBody = 32 << 20

// handleLogical turns an HTTP request into a logical.Request for mount m,
// runs it through the engine and writes the response the way Vault's HTTP
// layer does.
func (s *Server) handleLogical(w http.ResponseWriter, r *http.Request, m *mount, path, token string) {
	req, status, err := buildRequest(r, m, path)
	if err != nil {
		respondError(w, status, err)
		return
	}
	req.ClientToken = token
	ctx := r.Context()
	if req.Operation == logical.UpdateOperation {
		// Like Vault's core: a path with an existence check gets "create"
		// when the resource is missing, "update" otherwise.
		checkFound, exists, err := m.backend.HandleExistenceCheck(ctx, req)
		if err != nil {
			respondError(w, http.StatusInternalServerError, err)
			return
		}
		if checkFound && !exists {
			req.Operation = logical.CreateOperation
		}
	}
	resp, err := m.backend.HandleRequest(ctx, req)
	if status, err := logical.RespondErrorCommon(req, resp, err); err != nil || status != 0 {
		if status == 0 {
			status = http.StatusInternalServerError
		}
		if resp != nil && resp.IsError() && len(resp.Warnings) > 0 && err != nil {
			respondJSON(w, status, map[string]any{"errors": []string{err.Error()}, "warnings": resp.Warnings})
			return
		}
		respondError(w, status, err)
		return
	}
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if _, ok := resp.Data[logical.HTTPStatusCode]; ok {
		respondRaw(w, resp)
		return
	}
	resp.MountType = m.typ
	httpResp := logical.LogicalResponseToHTTPResponse(resp)
	httpResp.RequestID = req.ID
	respondJSON(w, http.StatusOK, httpResp)
}

// buildRequest maps method, path, query and body onto a logical.Request
// for mount m, as Vault's HTTP layer does.
func buildRequest(r *http.Request, m *mount, path string) (*logical.Request, int, error) {
	var op logical.Operation
	var data map[string]any
	query := r.URL.Query()
	switch r.Method {
	case http.MethodGet:
		op = logical.ReadOperation
		if ls := query.Get("list"); ls != "" {
			list, err := strconv.ParseBool(ls)
			if err != nil {
				return nil, http.StatusBadRequest, fmt.Errorf("invalid list parameter %q", ls)
			}
			query.Del("list")
			if list {
				op = logical.ListOperation
			}
		}
		data = parseQuery(query)
	case "LIST":
		op = logical.ListOperation
		data = parseQuery(query)
	case http.MethodDelete:
		op = logical.DeleteOperation
		data = parseQuery(query)
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		op = logical.UpdateOperation
		if r.Method == http.MethodPatch {
			op = logical.PatchOperation
		}
		var err error
		if data, err = parseJSON(r.Body); err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("error parsing JSON: %w", err)
		}
	default:
		return nil, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed", r.Method)
	}
	if op == logical.ListOperation && !strings.HasSuffix(path, "/") {
		path += "/"
	}
	id, err := uuid.GenerateUUID()
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	req := &logical.Request{
		ID:         id,
		Operation:  op,
		Path:       strings.TrimPrefix(path, m.path),
		Data:       data,
		Storage:    m.storage,
		Headers:    r.Header,
		MountPoint: m.path,
		MountType:  m.typ,
		Connection: &logical.Connection{RemoteAddr: remoteHost(r)},
	}
	return req, 0, nil
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// parseQuery turns query parameters into request data: one value stays a
// string, several become a list.
func parseQuery(q url.Values) map[string]any {
	if len(q) == 0 {
		return nil
	}
	data := make(map[string]any, len(q))
	for k, v := range q {
		switch len(v) {
		case 0:
		case 1:
			data[k] = v[0]
		default:
			data[k] = v
		}
	}
	return data
}

// parseJSON decodes a JSON object body with numbers kept as json.Number,
// as Vault does. An empty body gives nil data.
func parseJSON(body io.Reader) (map[string]any, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, errors.New("request body too large")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var data map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&data); err != nil {
		return nil, err
	}
	return data, nil
}

// respondRaw writes a response an engine built with
// logical.RespondWithStatusCode: its own status, content type and body.
func respondRaw(w http.ResponseWriter, resp *logical.Response) {
	status := http.StatusInternalServerError
	switch v := resp.Data[logical.HTTPStatusCode].(type) {
	case int:
		status = v
	case float64:
		status = int(v)
	case json.Number:
		if n, err := v.Int64(); err == nil {
			status = int(n)
		}
	}
	var body []byte
	switch v := resp.Data[logical.HTTPRawBody].(type) {
	case string:
		if dec, err := base64.StdEncoding.DecodeString(v); err == nil {
			body = dec
		} else {
			body = []byte(v)
		}
	case []byte:
		body = v
	}
	if ct, ok := resp.Data[logical.HTTPContentType].(string); ok {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(status)
	w.Write(body)
}

// respondJSON writes v as JSON with status.
func respondJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// respondError writes Vault's error envelope {"errors":[...]}; a nil err
// gives an empty list, as Vault answers a read of a missing path.
func respondError(w http.ResponseWriter, status int, err error) {
	errs := []string{}
	if err != nil {
		errs = append(errs, err.Error())
	}
	respondJSON(w, status, map[string]any{"errors": errs})
}
