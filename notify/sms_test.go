package notify_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/notify"
)

func TestSplit(t *testing.T) {
	one := notify.Split("Tip received. Your code: ABCD-EFGH-JKMN-PQRS. Text here to add details. Danger now: call 911. Crisis: call or text 988.")
	require.Len(t, one, 1, "the token reply fits one segment")

	require.Equal(t, []string{`He said "don't tell" - it's real...`}, notify.Split("He said \u201cdon\u2019t tell\u201d \u2014 it\u2019s real\u2026"),
		"typographic punctuation becomes GSM-7")

	long := strings.Repeat("palabra ", 60) // 480 GSM characters
	parts := notify.Split(long)
	require.Len(t, parts, 4)
	for i, p := range parts {
		require.LessOrEqual(t, len(p), 160, "part %d", i)
		require.True(t, strings.HasPrefix(p, []string{"1/4 ", "2/4 ", "3/4 ", "4/4 "}[i]), "part %d: %q", i, p)
		require.False(t, strings.HasSuffix(p, " "))
	}
	require.Equal(t, strings.TrimSpace(long), strings.Join(stripNumbers(parts), " "), "nothing lost between parts")

	emoji := strings.Repeat("😢 ayuda por favor ", 10)
	parts = notify.Split(emoji)
	require.Greater(t, len(parts), 1)
	for i, p := range parts {
		require.True(t, utf8.ValidString(p), "part %d cut inside a character", i)
		require.LessOrEqual(t, utf16Len(p), 70, "part %d: %q", i, p)
	}

	word := strings.Repeat("x", 400)
	parts = notify.Split(word)
	require.Equal(t, word, strings.Join(stripNumbers(parts), ""))
}

func stripNumbers(parts []string) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		_, rest, _ := strings.Cut(p, " ")
		out[i] = rest
	}
	return out
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
