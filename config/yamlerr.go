package config

import (
	"bytes"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	yamlLineMsg  = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// syntaxError locates a YAML syntax error. The parser reports some errors
// at the line where the enclosing construct began and others a line past
// the problem, so the line is recomputed: it is the first line at which
// the file's prefix fails with the same message.
func syntaxError(name string, data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineMsg.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	end := 0
	for i, l := range lines {
		end += len(l)
		var n yaml.Node
		perr := yaml.Unmarshal(data[:end], &n)
		if perr == nil {
			continue
		}
		if m := yamlLineMsg.FindStringSubmatch(perr.Error()); m != nil && m[2] == msg {
			line = i + 1
			break
		}
	}
	return &Error{File: name, Line: line, Msg: msg}
}

// decodeError turns the decoder's errors into Errors with the full field
// path: an unknown field is reported as e.g. policy.grants[8].revaal with
// the fields valid there.
func decodeError(name string, root *yaml.Node, err error) error {
	var ce *Error
	if errors.As(err, &ce) {
		ce.File = name
		return ce
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return syntaxError(name, nil, err)
	}
	var errs []error
	for _, e := range te.Errors {
		m := yamlLineMsg.FindStringSubmatch(e)
		if m == nil {
			errs = append(errs, &Error{File: name, Msg: e})
			continue
		}
		line, _ := strconv.Atoi(m[1])
		out := &Error{File: name, Line: line, Msg: m[2]}
		if f := unknownField.FindStringSubmatch(m[2]); f != nil {
			if path, ok := keyPath(root, line, f[1]); ok {
				out.Field = fieldName(path)
				out.Msg = "unknown field"
				if valid := fieldsAt(reflect.TypeOf(Config{}), path[:len(path)-1]); len(valid) > 0 {
					out.Msg += " (valid here: " + strings.Join(valid, ", ") + ")"
				}
			}
		} else if path, ok := valuePath(root, line); ok {
			out.Field = fieldName(path)
		}
		errs = append(errs, out)
	}
	return errors.Join(errs...)
}

// keyPath finds the mapping key named key on line and returns its path.
func keyPath(n *yaml.Node, line int, key string) ([]any, bool) {
	return walk(n, nil, func(k *yaml.Node, _ *yaml.Node) bool { return k.Line == line && k.Value == key })
}

// valuePath finds the first key whose value starts on line.
func valuePath(n *yaml.Node, line int) ([]any, bool) {
	return walk(n, nil, func(k, v *yaml.Node) bool { return v.Line == line && v.Kind == yaml.ScalarNode })
}

func walk(n *yaml.Node, path []any, hit func(k, v *yaml.Node) bool) ([]any, bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, ok := walk(c, path, hit); ok {
				return p, true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := append(append([]any{}, path...), k.Value)
			if hit(k, v) {
				return p, true
			}
			if r, ok := walk(v, p, hit); ok {
				return r, true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, ok := walk(c, append(append([]any{}, path...), i), hit); ok {
				return p, true
			}
		}
	}
	return nil, false
}

// fieldsAt returns the YAML field names of the struct at path within t.
func fieldsAt(t reflect.Type, path []any) []string {
	for _, p := range path {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		name, ok := p.(string)
		if !ok {
			continue
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, found := structField(t, name)
		if !found {
			return nil
		}
		t = f.Type
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		if n := yamlName(t.Field(i)); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func structField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if yamlName(t.Field(i)) == name {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func yamlName(f reflect.StructField) string {
	tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
	if tag == "-" || !f.IsExported() {
		return ""
	}
	if tag == "" {
		return strings.ToLower(f.Name)
	}
	return tag
}
