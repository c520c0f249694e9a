package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// apiBodyLimit bounds a JSON request: a full report is far smaller.
const apiBodyLimit = 64 << 10

// apiError is the body of every API error: a message a person can read and,
// when one field is at fault, its name.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// apiProblem is an API error answer that a handler returns; handleError
// writes it in the language of the request's Accept-Language.
type apiProblem struct {
	status int
	key    string // the message, unless fe is set
	args   []any  // the message's placeholder values, as name, value pairs
	field  string // the request field at fault, if one is
	fe     *intake.FieldError
	form   string // for fe: formReport or formReply, which name its fields
}

func (p *apiProblem) Error() string { return fmt.Sprintf("web: api %d: %s", p.status, p.key) }

func problem(status int, field, key string, args ...any) *apiProblem {
	return &apiProblem{status: status, key: key, args: args, field: field}
}

// fieldProblem answers a field intake would not take.
func fieldProblem(form string, fe *intake.FieldError) *apiProblem {
	return &apiProblem{status: http.StatusBadRequest, field: fe.Field, fe: fe, form: form}
}

// apiErrorBody is the JSON body of an API error, in the request's language.
func (h *handler) apiErrorBody(c echo.Context, p *apiProblem) apiError {
	lang := h.lang(c)
	if p.fe != nil {
		return apiError{Error: h.fieldError(lang, p.form, p.fe), Field: p.field}
	}
	return apiError{Error: h.msg(lang, p.key, p.args...), Field: p.field}
}

// Keys of the API's own messages about a request it cannot read.
const (
	keyAPIUnsupported    = "api.unsupported_media_type"
	keyAPITooLarge       = "api.too_large"
	keyAPIEmpty          = "api.empty"
	keyAPIEndsEarly      = "api.ends_early"
	keyAPISyntax         = "api.syntax"
	keyAPINotObject      = "api.not_object"
	keyAPIFieldText      = "api.field_text"
	keyAPIFieldBool      = "api.field_bool"
	keyAPIUnknownField   = "api.unknown_field"
	keyAPINotJSON        = "api.not_json"
	keyAPIOneObject      = "api.one_object"
	keyAPINotUTF8        = "api.not_utf8"
	keyAPIDuplicateField = "api.duplicate_field"
)

// decodeJSON reads a request body into dst strictly: JSON only, no unknown
// fields, nothing after the object, at most apiBodyLimit bytes. Its errors
// are apiProblems that say what to fix.
func decodeJSON(c echo.Context, dst any) error {
	req := c.Request()
	mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return problem(http.StatusUnsupportedMediaType, "", keyAPIUnsupported)
	}
	if req.ContentLength > apiBodyLimit {
		return problem(http.StatusRequestEntityTooLarge, "", keyAPITooLarge, "kb", apiBodyLimit>>10)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, apiBodyLimit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return problem(http.StatusRequestEntityTooLarge, "", keyAPITooLarge, "kb", apiBodyLimit>>10)
		}
		return problem(http.StatusBadRequest, "", keyAPIEndsEarly)
	}
	// encoding/json would quietly turn invalid UTF-8 into U+FFFD and let
	// a repeated key's last value win; a client sending either has a bug
	// worth hearing about, and a report must say what its sender meant.
	if !utf8.Valid(body) {
		return problem(http.StatusBadRequest, "", keyAPINotUTF8)
	}
	if name, ok := duplicateKey(body); ok {
		return problem(http.StatusBadRequest, name, keyAPIDuplicateField, "field", name)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonProblem(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return problem(http.StatusBadRequest, "", keyAPIOneObject)
	}
	return nil
}

// duplicateKey finds the first key that appears twice in one object of a
// JSON text, at any depth. Invalid JSON finds none: the decoder says what
// is wrong with it.
//
// encoding/json's tokens cost more than decoding the report itself, so a
// body with no escapes (nearly every one: a string's bytes are then its
// value) is first scanned byte by byte. Only when that finds a duplicate,
// or finds the body malformed, do the tokens give the answer.
func duplicateKey(b []byte) (string, bool) {
	if bytes.IndexByte(b, '\\') < 0 && !plainHasDuplicateKey(b) {
		return "", false
	}
	return tokenDuplicateKey(b)
}

// plainHasDuplicateKey scans a JSON text without escapes the way
// tokenDuplicateKey reads its tokens. It answers true when a key repeats
// in an object, and also when the text is malformed, so that the tokens
// decide.
func plainHasDuplicateKey(b []byte) bool {
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool
	}
	var stack []frame
	valueDone := func() {
		if top := len(stack) - 1; top >= 0 && stack[top].object {
			stack[top].key = true
		}
	}
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case ' ', '\t', '\n', '\r', ',', ':':
		case '{', '[':
			valueDone()
			stack = append(stack, frame{object: c == '{', key: c == '{'})
		case '}', ']':
			if len(stack) == 0 {
				return true
			}
			stack = stack[:len(stack)-1]
		case '"':
			end := bytes.IndexByte(b[i+1:], '"')
			if end < 0 {
				return true
			}
			s := string(b[i+1 : i+1+end])
			i += end + 1
			if top := len(stack) - 1; top >= 0 && stack[top].object && stack[top].key {
				k := strings.ToLower(s) // as tokenDuplicateKey: encoding/json ignores case
				if stack[top].keys[k] {
					return true
				}
				if stack[top].keys == nil {
					stack[top].keys = map[string]bool{}
				}
				stack[top].keys[k] = true
				stack[top].key = false
				continue
			}
			valueDone()
		default: // a number, true, false or null
			for i+1 < len(b) && !strings.ContainsRune(" \t\n\r,:{}[]\"", rune(b[i+1])) {
				i++
			}
			valueDone()
		}
	}
	return len(stack) != 0
}

// tokenDuplicateKey is duplicateKey by encoding/json's tokens.
func tokenDuplicateKey(b []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		top := len(stack) - 1
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top >= 0 && stack[top].object {
					stack[top].key = true // the value is done once it closes
				}
				stack = append(stack, frame{object: v == '{', keys: map[string]bool{}, key: v == '{'})
			default:
				stack = stack[:top]
			}
			continue
		case string:
			if top >= 0 && stack[top].object && stack[top].key {
				// encoding/json matches keys to fields ignoring case, so
				// "body" and "Body" name one field.
				k := strings.ToLower(v)
				if stack[top].keys[k] {
					return v, true
				}
				stack[top].keys[k] = true
				stack[top].key = false
				continue
			}
		}
		if top >= 0 && stack[top].object {
			stack[top].key = true // a value was read: a key comes next
		}
	}
}

// jsonProblem says in words what was wrong with a JSON body. Go's own
// messages name Go types; these name the request's fields.
func jsonProblem(err error) *apiProblem {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return problem(http.StatusRequestEntityTooLarge, "", keyAPITooLarge, "kb", apiBodyLimit>>10)
	case errors.Is(err, io.EOF):
		return problem(http.StatusBadRequest, "", keyAPIEmpty)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem(http.StatusBadRequest, "", keyAPIEndsEarly)
	case errors.As(err, &syn):
		return problem(http.StatusBadRequest, "", keyAPISyntax, "offset", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return problem(http.StatusBadRequest, "", keyAPINotObject)
		}
		key := keyAPIFieldText
		if typ.Type != nil && typ.Type.Kind() == reflect.Bool {
			key = keyAPIFieldBool
		}
		return problem(http.StatusBadRequest, typ.Field, key, "field", typ.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no type for this error; its text is stable.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem(http.StatusBadRequest, name, keyAPIUnknownField, "field", name)
	}
	return problem(http.StatusBadRequest, "", keyAPINotJSON)
}
