package intake

import (
	"fmt"
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/text/unicode/norm"
)

// FieldError is a report field that cannot be accepted, with a message a
// reporter can act on. It never carries the field's content. Code and Limit
// let pages say the same in the reporter's language.
type FieldError struct {
	Field   string
	Code    string // one of the Err* codes
	Limit   int    // for ErrTooLong: the most characters allowed
	Message string // in English, for the API and logs
}

// The kinds of FieldError.
const (
	ErrRequired        = "required"
	ErrTooLong         = "too_long"
	ErrInvalidText     = "invalid_text"
	ErrUnknownCategory = "unknown_category"
	ErrTooManyImages   = "too_many_images" // Limit: the most images allowed
	ErrImageTooLarge   = "image_too_large" // Limit: the most bytes allowed per image
	ErrImageType       = "image_type"      // not a JPEG, PNG, GIF or WebP image, by content
)

// Image limits: screenshots are the commonest evidence, and three of them
// at phone resolution fit easily.
const (
	MaxImages     = 3
	MaxImageBytes = 8 << 20
)

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// field is one text field's rules.
type field struct {
	name     string
	label    string // as a reporter knows the field
	required bool
	max      int // in characters, after cleaning
	oneLine  bool
}

// The fields of a report, with limits that fit a thorough tip but not a
// pasted book. Limits count characters, not bytes, so Spanish or emoji cost
// no more than English.
var (
	fieldOrg      = field{name: "org", label: "Organisation", required: true, max: 200, oneLine: true}
	fieldCategory = field{name: "category", label: "Category", max: 64, oneLine: true}
	fieldBody     = field{name: "body", label: "What happened", required: true, max: 10000}
	fieldLocation = field{name: "location", label: "Where", max: 500}
	fieldWhen     = field{name: "when", label: "When", max: 200}
	fieldSubject  = field{name: "subject", label: "Who is involved", max: 1000}
	fieldContact  = field{name: "contact", label: "Contact details", max: 500, oneLine: true}
	fieldMessage  = field{name: "body", label: "Message", required: true, max: 5000}
)

// cleaner turns untrusted text into safe plain text. It is safe for
// concurrent use.
type cleaner struct {
	policy *bluemonday.Policy
}

func newCleaner() *cleaner {
	// StrictPolicy keeps no markup at all: a tip is plain text, and pages
	// escape it again when they show it.
	return &cleaner{policy: bluemonday.StrictPolicy()}
}

// clean validates and normalises one field: valid UTF-8, NFC, no control
// characters but newlines and tabs, markup removed, trimmed, within limits.
func (c *cleaner) clean(f field, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", &FieldError{Field: f.name, Code: ErrInvalidText, Message: f.label + " contains characters that are not valid text."}
	}
	// A bound on the raw input before any work: markup removal can only
	// shorten text, but a multi-megabyte field is refused without parsing it.
	if len(s) > 8*f.max+1024 {
		return "", &FieldError{Field: f.name, Code: ErrTooLong, Limit: f.max, Message: fmt.Sprintf("%s is too long: at most %d characters.", f.label, f.max)}
	}
	// Normalise before removing markup, so that a control character cannot
	// hide a tag from bluemonday ("<\x00script"), and again after, because
	// unescaping can bring back characters that entities hid ("&#1;").
	s = normalise(s, f.oneLine)
	// bluemonday returns HTML; unescaping gives back the text a person
	// would read. Repeat until nothing changes, so markup hidden behind
	// entities ("&lt;script&gt;") is removed too rather than revived.
	for i := 0; i < 4 && strings.ContainsAny(s, "<>&"); i++ {
		next := html.UnescapeString(c.policy.Sanitize(s))
		if next == s {
			break
		}
		s = normalise(next, f.oneLine)
	}
	s = strings.TrimSpace(s)
	if f.required && s == "" {
		return "", &FieldError{Field: f.name, Code: ErrRequired, Message: f.label + " is required."}
	}
	if n := utf8.RuneCountInString(s); n > f.max {
		return "", &FieldError{Field: f.name, Code: ErrTooLong, Limit: f.max, Message: fmt.Sprintf("%s is too long: %d characters, at most %d.", f.label, n, f.max)}
	}
	return s, nil
}

// normalise puts text in NFC with "\n" line ends and no control characters
// but newlines and tabs (spaces in one-line fields).
func normalise(s string, oneLine bool) string {
	s = norm.NFC.String(s)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			if oneLine {
				return ' '
			}
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r), r == utf8.RuneError:
			return -1
		}
		return r
	}, s)
}
