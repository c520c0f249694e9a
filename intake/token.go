package intake

import (
	"crypto/rand"
	"errors"
	"strings"
)

// crockford is Crockford's base32 alphabet: digits and letters without I, L,
// O and U, so a token read aloud or copied by hand survives.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// tokenChars is the length of a token without dashes: 16 symbols of 5 bits
// each are 80 bits from crypto/rand.
const tokenChars = 16

// tokenGroup is how many symbols stand between dashes when a token is shown.
const tokenGroup = 4

// ErrMalformedToken means the text cannot be a follow-up token. Callers
// answer it exactly as they answer an unknown token.
var ErrMalformedToken = errors.New("intake: malformed token")

// Token is a reporter's follow-up token in canonical form: 16 symbols of
// Crockford base32, upper case, no dashes.
type Token string

// newToken returns a fresh token of 80 random bits.
func newToken() Token {
	return Token(randomBase32(tokenChars))
}

// randomBase32 returns n Crockford symbols, each from 5 random bits.
func randomBase32(n int) string {
	b := make([]byte, n)
	// rand.Read never fails on the platforms Go supports; it panics instead.
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = crockford[b[i]&31]
	}
	return string(b)
}

// String shows the token in groups a person can copy or type: XXXX-XXXX-XXXX-XXXX.
func (t Token) String() string {
	var sb strings.Builder
	for i, r := range string(t) {
		if i > 0 && i%tokenGroup == 0 {
			sb.WriteByte('-')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// ParseToken reads a token as a reporter might type it: any case, with
// spaces or dashes, O for 0 and I or L for 1.
func ParseToken(s string) (Token, error) {
	if len(s) > 4*tokenChars { // far longer than any way of writing a token
		return "", ErrMalformedToken
	}
	b := make([]byte, 0, tokenChars)
	for _, r := range s {
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\n' || r == '\r':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		switch r {
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 127 || strings.IndexByte(crockford, byte(r)) < 0 {
			return "", ErrMalformedToken
		}
		b = append(b, byte(r))
	}
	if len(b) != tokenChars {
		return "", ErrMalformedToken
	}
	return Token(b), nil
}
