package notify

import (
	"strconv"
	"strings"
	"unicode/utf16"
)

// SMS sizes: one GSM-7 segment holds 160 septets, one UCS-2 segment 70
// UTF-16 units. A text over one segment is sent as several messages, each a
// single segment, so no phone shows a message cut in the middle of a word or
// of an emoji.
const (
	gsmSegment  = 160
	ucs2Segment = 70
)

// gsmBasic is the GSM 03.38 default alphabet; gsmExtended holds the
// characters that cost two septets (an escape and the character).
const (
	gsmBasic    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "^{}\\[~]|€\f"
)

// gsmLook maps the punctuation phones and keyboards type but GSM-7 lacks to
// what it has, so a text stays in the cheap, long alphabet.
var gsmLook = strings.NewReplacer(
	"\u2018", "'", "\u2019", "'", "\u201A", "'", "\u201B", "'",
	"\u201C", "\"", "\u201D", "\"", "\u201E", "\"",
	"\u2013", "-", "\u2014", "-", "\u2212", "-", "\u2026", "...",
	"\u00A0", " ", "\u2009", " ", "\u202F", " ", "\u00B4", "'", "\u02BC", "'",
)

// septets is a text's length in GSM-7 septets, or -1 if it needs UCS-2.
func septets(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			n++
		case strings.ContainsRune(gsmExtended, r):
			n += 2
		default:
			return -1
		}
	}
	return n
}

// fits tells whether s goes in one segment of its alphabet.
func fits(s string) bool {
	if n := septets(s); n >= 0 {
		return n <= gsmSegment
	}
	return len(utf16.Encode([]rune(s))) <= ucs2Segment
}

// Split shapes a text for SMS: punctuation GSM-7 lacks is replaced where
// that keeps the text in GSM-7, and a text longer than one segment is cut,
// between words where it can be and never inside a character, into parts
// that each fit one segment, numbered "1/3 ".
func Split(text string) []string {
	if g := gsmLook.Replace(text); septets(g) >= 0 {
		text = g
	}
	if fits(text) {
		return []string{text}
	}
	// Number the parts; the width of "n/N " grows with N, so retry until
	// the count is stable.
	for total := 2; ; total++ {
		parts := pack(text, total)
		if len(parts) <= total {
			for i := range parts {
				parts[i] = strconv.Itoa(i+1) + "/" + strconv.Itoa(len(parts)) + " " + parts[i]
			}
			return parts
		}
	}
}

// pack cuts text into parts that fit one segment with a "n/total " prefix.
func pack(text string, total int) []string {
	prefix := strconv.Itoa(total) + "/" + strconv.Itoa(total) + " "
	var parts []string
	words := strings.SplitAfter(text, " ")
	cur := ""
	for _, w := range words {
		if fits(prefix + cur + w) {
			cur += w
			continue
		}
		if cur != "" {
			parts = append(parts, strings.TrimRight(cur, " "))
			cur = ""
		}
		// A word longer than a segment is cut between characters.
		for !fits(prefix + w) {
			rs := []rune(w)
			i := len(rs) - 1
			for i > 0 && !fits(prefix+string(rs[:i])) {
				i--
			}
			parts = append(parts, string(rs[:i]))
			w = string(rs[i:])
		}
		cur = w
	}
	if strings.TrimSpace(cur) != "" {
		parts = append(parts, strings.TrimRight(cur, " "))
	}
	return parts
}
