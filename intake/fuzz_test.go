package intake

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParseToken: whatever a reporter types, parsing never panics, and what
// it accepts is a canonical token that parses to itself and shows grouped.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH-JKMN-PQRS", "abcd efgh jkmn pqrs", "O0Ol-IiL1-2345-6789", "", "-", "ÅÅÅÅ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			return
		}
		if len(tok) != tokenChars {
			t.Fatalf("ParseToken(%q) = %q: %d symbols, want %d", s, tok, len(tok), tokenChars)
		}
		again, err := ParseToken(tok.String())
		if err != nil || again != tok {
			t.Fatalf("ParseToken(%q) = %q, but its shown form %q parses to %q, %v", s, tok, tok.String(), again, err)
		}
	})
}

// liveTag is markup a browser would act on if the text were ever shown raw.
var liveTag = regexp.MustCompile(`<(/?[A-Za-z]|[!?])`)

// FuzzClean: any input is either refused with a FieldError or comes out as
// valid, normalised plain text within the field's limit, with no markup.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"hello", "<script>alert(1)</script>", "&lt;b&gt;x", "a < b & c > d", "\x00\xff", "José\r\n", strings.Repeat("é", 300)} {
		f.Add(s)
	}
	c := newCleaner()
	fl := field{name: "body", label: "Body", max: 200}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := c.clean(fl, s)
		if err != nil {
			if _, ok := err.(*FieldError); !ok {
				t.Fatalf("clean(%q): %T %v, want a *FieldError", s, err, err)
			}
			return
		}
		switch {
		case !utf8.ValidString(out):
			t.Fatalf("clean(%q) = %q: not valid UTF-8", s, out)
		case utf8.RuneCountInString(out) > fl.max:
			t.Fatalf("clean(%q): %d characters, limit %d", s, utf8.RuneCountInString(out), fl.max)
		case liveTag.MatchString(out):
			t.Fatalf("clean(%q) = %q: markup survived", s, out)
		case strings.TrimSpace(out) != out:
			t.Fatalf("clean(%q) = %q: not trimmed", s, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) && r != '\n' && r != '\t' {
				t.Fatalf("clean(%q) = %q: control character %U", s, out, r)
			}
		}
	})
}
