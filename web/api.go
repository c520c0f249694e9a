package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"
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
// writes it as it is.
type apiProblem struct {
	status int
	body   apiError
}

func (p *apiProblem) Error() string { return fmt.Sprintf("web: api %d: %s", p.status, p.body.Error) }

func problem(status int, msg, field string) *apiProblem {
	return &apiProblem{status: status, body: apiError{Error: msg, Field: field}}
}

// decodeJSON reads a request body into dst strictly: JSON only, no unknown
// fields, nothing after the object, at most apiBodyLimit bytes. Its errors
// are apiProblems that say what to fix.
func decodeJSON(c echo.Context, dst any) error {
	req := c.Request()
	mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return problem(http.StatusUnsupportedMediaType,
			"Send the request as JSON, with the header Content-Type: application/json.", "")
	}
	if req.ContentLength > apiBodyLimit {
		return problem(http.StatusRequestEntityTooLarge, tooLarge, "")
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), req.Body, apiBodyLimit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonProblem(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return problem(http.StatusRequestEntityTooLarge, tooLarge, "")
		}
		return problem(http.StatusBadRequest, "The request body must hold one JSON object and nothing after it.", "")
	}
	return nil
}

// tooLarge says a request body went over apiBodyLimit.
const tooLarge = "The request is too large: at most 64 KB."

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
		return problem(http.StatusRequestEntityTooLarge, tooLarge, "")
	case errors.Is(err, io.EOF):
		return problem(http.StatusBadRequest, "The request body is empty: send a JSON object.", "")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem(http.StatusBadRequest, "The request body is not valid JSON: it ends too early.", "")
	case errors.As(err, &syn):
		return problem(http.StatusBadRequest, fmt.Sprintf("The request body is not valid JSON (at byte %d).", syn.Offset), "")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return problem(http.StatusBadRequest, "The request body must be a JSON object.", "")
		}
		want := "text"
		if typ.Type != nil && typ.Type.Kind() == reflect.Bool {
			want = "true or false"
		}
		return problem(http.StatusBadRequest, fmt.Sprintf("The field %q must be %s.", typ.Field, want), typ.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no type for this error; its text is stable.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem(http.StatusBadRequest, fmt.Sprintf("The field %q is not one this request takes.", name), name)
	}
	return problem(http.StatusBadRequest, "The request body is not valid JSON.", "")
}
