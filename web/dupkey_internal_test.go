package web

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDuplicateKeyScanAgreesWithTokens: the byte scan that spares most
// bodies encoding/json's tokens gives the tokens' answer, on valid and
// malformed JSON alike.
func TestDuplicateKeyScanAgreesWithTokens(t *testing.T) {
	for _, body := range []string{
		`{"org":"x","body":"y"}`,
		`{"org":"x","body":"y","body":"z"}`,
		`{"org":"x","Body":"y","body":"z"}`,
		`{"a":{"b":1,"b":2}}`,
		`{"a":{"b":1},"b":{"a":2}}`,
		`{"a":[{"k":1},{"k":2}],"k":3}`,
		`{"a":[1,2,{"a":1,"a":2}]}`,
		`{"a":true,"b":null,"c":-1.5e3,"a":false}`,
		`{"a":"x:y,z}","b":"{[\"]}"}`,
		`{"a":"with \"escaped\" quote","a":"again"}`,
		`{"\u0061":1,"a":2}`,
		`{"a":1,"a":}`,
		`{"a":1,"b":2`,
		`{"a":"unclosed`,
		`}{`,
		`[]`,
		`"just a string"`,
		`{"é":1,"É":2}`,
		`{"a" : 1 , "a" : 2}`,
		``,
	} {
		wantKey, want := tokenDuplicateKey([]byte(body))
		gotKey, got := duplicateKey([]byte(body))
		require.Equal(t, want, got, "%s", body)
		require.Equal(t, wantKey, gotKey, "%s", body)
	}
}

func FuzzDuplicateKey(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":{"b":[1,{"c":2}]},"b":3}`, `{"x":"y"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		wantKey, want := tokenDuplicateKey([]byte(body))
		gotKey, got := duplicateKey([]byte(body))
		if want != got || wantKey != gotKey {
			t.Fatalf("%q: scan %q %v, tokens %q %v", body, gotKey, got, wantKey, want)
		}
	})
}
