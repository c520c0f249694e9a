package triage

import (
	"regexp/syntax"
	"slices"
	"unicode/utf8"
)

// span bounds how many bytes a match of a pattern can take: fixed bytes,
// and runs times the longest run of bytes other than ' ' in the text. A
// repeat that cannot match a space ("\w+", "[^ ]*") matches within one
// such run; any other repeat without bound makes the span unknown.
type span struct{ fixed, runs int }

var unbounded = span{-1, -1}

func (s span) known() bool { return s.fixed >= 0 }

// bytes is the bound for a text whose longest run of bytes other than
// ' ' is run long.
func (s span) bytes(run int) int { return s.fixed + s.runs*run }

// spanOf bounds the matches of re. A character class counts its widest
// rune, as an invalid byte of the text is read as one byte; a
// case-folding literal counts utf8.UTFMax per rune.
func spanOf(re *syntax.Regexp) span {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpNoMatch:
		return span{}
	case syntax.OpLiteral:
		n := 0
		for _, c := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				n += utf8.UTFMax
			} else {
				n += runeBytes(c)
			}
		}
		return span{n, 0}
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return span{}
		}
		return span{runeBytes(re.Rune[len(re.Rune)-1]), 0}
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return span{utf8.UTFMax, 0}
	case syntax.OpCapture, syntax.OpQuest:
		return spanOf(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		if noSpace(re.Sub[0]) {
			return span{0, 1}
		}
		return unbounded
	case syntax.OpRepeat:
		if re.Max < 0 {
			if noSpace(re.Sub[0]) {
				return span{0, 1}
			}
			return unbounded
		}
		s := spanOf(re.Sub[0])
		if !s.known() {
			return unbounded
		}
		return span{s.fixed * re.Max, s.runs * re.Max}
	case syntax.OpConcat, syntax.OpAlternate:
		var total span
		for _, sub := range re.Sub {
			s := spanOf(sub)
			if !s.known() {
				return unbounded
			}
			if re.Op == syntax.OpConcat {
				total = span{total.fixed + s.fixed, total.runs + s.runs}
			} else {
				total = span{max(total.fixed, s.fixed), max(total.runs, s.runs)}
			}
		}
		return total
	}
	return unbounded
}

// noSpace tells whether no match of re can hold a ' '.
func noSpace(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpNoMatch:
		return true
	case syntax.OpLiteral:
		return !slices.Contains(re.Rune, ' ')
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= ' ' && ' ' <= re.Rune[i+1] {
				return false
			}
		}
		return true
	case syntax.OpCapture, syntax.OpQuest, syntax.OpStar, syntax.OpPlus, syntax.OpRepeat,
		syntax.OpConcat, syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !noSpace(sub) {
				return false
			}
		}
		return true
	}
	return false
}

// runeBytes is how many bytes of text rune c can be read from: its UTF-8
// length, or utf8.UTFMax for a rune that has none.
func runeBytes(c rune) int {
	if n := utf8.RuneLen(c); n > 0 {
		return n
	}
	return utf8.UTFMax
}

// longestRun is the length of text's longest run of bytes other than ' '.
func longestRun(text string) int {
	best, run := 0, 0
	for i := 0; i < len(text); i++ {
		if text[i] == ' ' {
			run = 0
		} else {
			run++
			best = max(best, run)
		}
	}
	return best
}
