package triage

import (
	"regexp/syntax"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Go's regexp runs a program of more than 500 instructions, as many of the
// rules' patterns with a word list in them are, on its NFA, which steps
// every thread of a long alternation over each byte; smaller programs run
// on its backtracker, several times faster. backtrack is that backtracker,
// followed step for step, for a program of any size anchored at the start
// of its text, where findAnchored uses it: it explores the same paths in
// the same order, so it finds the match the regexp finds, leftmost-first,
// with the same submatches. Like Go's it visits each (instruction,
// position) once, so its cost is bounded by the program's size times the
// text's length; the text findAnchored gives it is cut to the longest
// match the pattern can make.
//
// Adapted from Go's regexp/backtrack.go: Copyright The Go Authors, under
// Go's BSD-style license.

// maxBacktrackBits bounds the visited set, one bit per instruction and
// position: a longer text goes to Go's regexp.
const maxBacktrackBits = 1 << 22

// backtrackable tells whether backtrack can run prog: its matches must
// start at the text's start, as anchoredExpr's do.
func backtrackable(prog *syntax.Prog) bool {
	cond := prog.StartCond()
	return cond != ^syntax.EmptyOp(0) && cond&syntax.EmptyBeginText != 0 && prog.NumCap >= 4
}

// btProg is a program for backtrack, with what it reads first: next[pc]
// holds each byte that can start a rune instruction pc can go on with,
// following empty moves, and every byte and the text's end (bit 256) when
// pc can reach an empty-width condition or the match. A path whose next
// byte instruction pc cannot read fails there: backtrack drops it before
// stepping through its alternatives one by one (a word list is hundreds of
// them), which changes only how soon it fails, not what matches.
type btProg struct {
	prog *syntax.Prog
	next []btSet
}

type btSet [5]uint64

func (s *btSet) add(c int)      { s[c/64] |= 1 << (c % 64) }
func (s *btSet) has(c int) bool { return s[c/64]&(1<<(c%64)) != 0 }

// endByte stands for the text's end in a btSet.
const endByte = 256

func newBtProg(prog *syntax.Prog) *btProg {
	bp := &btProg{prog: prog, next: make([]btSet, len(prog.Inst))}
	seen := make([]int, len(prog.Inst)) // the pc whose closure last saw an instruction, +1
	var stack []uint32
	for pc := range prog.Inst {
		set := &bp.next[pc]
		stack = append(stack[:0], uint32(pc))
		for len(stack) > 0 {
			at := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[at] == pc+1 {
				continue
			}
			seen[at] = pc + 1
			inst := &prog.Inst[at]
			switch inst.Op {
			case syntax.InstAlt:
				stack = append(stack, inst.Out, inst.Arg)
			case syntax.InstNop, syntax.InstCapture:
				stack = append(stack, inst.Out)
			case syntax.InstFail:
			case syntax.InstRune1:
				addRune(set, inst.Rune[0])
			case syntax.InstRune:
				addRunes(set, inst)
			case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
				set[0], set[1], set[2], set[3] = ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)
			default: // empty-width, match, anything else: anything goes
				*set = btSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), 1}
			}
		}
	}
	return bp
}

// addRune adds the byte a rune starts with; any rune beyond ASCII adds
// every byte from 0x80, an invalid byte being read as utf8.RuneError.
func addRune(set *btSet, r rune) {
	if r >= 0 && r < utf8.RuneSelf {
		set.add(int(r))
		return
	}
	set[2], set[3] = ^uint64(0), ^uint64(0) // 0x80 to 0xff
}

// addRunes adds the bytes the runes an instruction matches start with, as
// its MatchRune reads it.
func addRunes(set *btSet, inst *syntax.Inst) {
	rs := inst.Rune
	if len(rs) == 1 {
		addRune(set, rs[0])
		if syntax.Flags(inst.Arg)&syntax.FoldCase != 0 {
			for r := unicode.SimpleFold(rs[0]); r != rs[0]; r = unicode.SimpleFold(r) {
				addRune(set, r)
			}
		}
		return
	}
	for i := 0; i+1 < len(rs); i += 2 {
		for r := rs[i]; r <= rs[i+1] && r < utf8.RuneSelf; r++ {
			addRune(set, r)
		}
		if rs[i+1] >= utf8.RuneSelf {
			addRune(set, utf8.RuneSelf)
		}
	}
}

// reads tells whether pc can go on at pos: the byte there, or the end.
func (b *btState) reads(pc uint32, pos int) bool {
	c := endByte
	if pos < len(b.text) {
		c = int(b.text[pos])
	}
	return b.next[pc].has(c)
}

type btJob struct {
	pc  uint32
	arg bool
	pos int
}

// btState is backtrack's memory, kept between calls: visited is all
// zeros between calls, cleared word by word where it was set.
type btState struct {
	prog     *syntax.Prog
	next     []btSet
	text     string
	end      int
	cap      [4]int
	matchcap [4]int
	jobs     []btJob
	visited  []uint32
	touched  []int32
}

var btPool sync.Pool

// backtrack returns, as regexp's FindStringSubmatchIndex would of the
// regexp compiled to prog, the match at text's start and its first
// group, or ok false when there is none.
func backtrack(bp *btProg, text string) (loc [4]int, ok bool) {
	prog := bp.prog
	b, _ := btPool.Get().(*btState)
	if b == nil {
		b = &btState{}
	}
	b.prog, b.next, b.text, b.end = prog, bp.next, text, len(text)
	b.jobs = b.jobs[:0]
	if size := (len(prog.Inst)*(len(text)+1) + 31) / 32; len(b.visited) < size {
		b.visited = make([]uint32, size)
	}
	b.cap = [4]int{0, -1, -1, -1}
	b.matchcap = [4]int{-1, -1, -1, -1}
	ok = b.try(text, uint32(prog.Start), 0)
	loc = b.matchcap
	for _, w := range b.touched {
		b.visited[w] = 0
	}
	b.touched = b.touched[:0]
	b.prog, b.next, b.text = nil, nil, ""
	btPool.Put(b)
	return loc, ok
}

// shouldVisit marks (pc, pos) visited, telling whether it was not.
func (b *btState) shouldVisit(pc uint32, pos int) bool {
	n := uint(int(pc)*(b.end+1) + pos)
	w, bit := n/32, uint32(1)<<(n&31)
	v := b.visited[w]
	if v&bit != 0 {
		return false
	}
	if v == 0 {
		b.touched = append(b.touched, int32(w))
	}
	b.visited[w] = v | bit
	return true
}

func (b *btState) push(pc uint32, pos int, arg bool) {
	if b.prog.Inst[pc].Op != syntax.InstFail && (arg || b.reads(pc, pos) && b.shouldVisit(pc, pos)) {
		b.jobs = append(b.jobs, btJob{pc: pc, arg: arg, pos: pos})
	}
}

// runeAt reads the rune at pos, as regexp's inputString does: -1 and 0 at
// the end.
func runeAt(text string, pos int) (rune, int) {
	if pos < len(text) {
		if c := text[pos]; c < utf8.RuneSelf {
			return rune(c), 1
		}
		return utf8.DecodeRuneInString(text[pos:])
	}
	return -1, 0
}

// emptyAt is the empty-width conditions that hold at pos, as regexp's
// inputString reads them.
func emptyAt(text string, pos int) syntax.EmptyOp {
	r1, r2 := rune(-1), rune(-1)
	if uint(pos-1) < uint(len(text)) {
		r1, _ = utf8.DecodeLastRuneInString(text[:pos])
	}
	if uint(pos) < uint(len(text)) {
		r2, _ = utf8.DecodeRuneInString(text[pos:])
	}
	return syntax.EmptyOpContext(r1, r2)
}

// try is regexp's tryBacktrack, leftmost-first (not longest).
func (b *btState) try(text string, pc uint32, pos int) bool {
	insts := b.prog.Inst
	b.push(pc, pos, false)
	for len(b.jobs) > 0 {
		l := len(b.jobs) - 1
		pc := b.jobs[l].pc
		pos := b.jobs[l].pos
		arg := b.jobs[l].arg
		b.jobs = b.jobs[:l]
		goto Skip
	CheckAndLoop:
		if !b.reads(pc, pos) || !b.shouldVisit(pc, pos) {
			continue
		}
	Skip:
		inst := &insts[pc]
		switch inst.Op {
		default:
			panic("triage: bad instruction")
		case syntax.InstFail:
			panic("triage: unexpected InstFail")
		case syntax.InstAlt:
			if arg {
				arg = false
				pc = inst.Arg
				goto CheckAndLoop
			}
			// A branch that cannot read the next byte fails at once,
			// touching nothing: in a word list, go straight on to the
			// next alternative, or do not come back for one that fails.
			if !b.reads(inst.Out, pos) {
				pc = inst.Arg
				goto CheckAndLoop
			}
			if b.reads(inst.Arg, pos) {
				b.push(pc, pos, true)
			}
			pc = inst.Out
			goto CheckAndLoop
		case syntax.InstAltMatch:
			switch insts[inst.Out].Op {
			case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
				b.push(inst.Arg, pos, false)
				pc = inst.Arg
				pos = b.end
				goto CheckAndLoop
			}
			b.push(inst.Out, b.end, false)
			pc = inst.Out
			goto CheckAndLoop
		case syntax.InstRune:
			r, width := runeAt(text, pos)
			if !inst.MatchRune(r) {
				continue
			}
			pos += width
			pc = inst.Out
			goto CheckAndLoop
		case syntax.InstRune1:
			r, width := runeAt(text, pos)
			if r != inst.Rune[0] {
				continue
			}
			pos += width
			pc = inst.Out
			goto CheckAndLoop
		case syntax.InstRuneAnyNotNL:
			r, width := runeAt(text, pos)
			if r == '\n' || r == -1 {
				continue
			}
			pos += width
			pc = inst.Out
			goto CheckAndLoop
		case syntax.InstRuneAny:
			r, width := runeAt(text, pos)
			if r == -1 {
				continue
			}
			pos += width
			pc = inst.Out
			goto CheckAndLoop
		case syntax.InstCapture:
			if arg {
				b.cap[inst.Arg] = pos
				continue
			}
			if inst.Arg < uint32(len(b.cap)) {
				b.push(pc, b.cap[inst.Arg], true) // come back when we're done
				b.cap[inst.Arg] = pos
			}
			pc = inst.Out
			goto CheckAndLoop
		case syntax.InstEmptyWidth:
			op := syntax.EmptyOp(inst.Arg)
			if op != 0 && emptyAt(text, pos)&op != op {
				continue
			}
			pc = inst.Out
			goto CheckAndLoop
		case syntax.InstNop:
			pc = inst.Out
			goto CheckAndLoop
		case syntax.InstMatch:
			b.cap[1] = pos
			b.matchcap = b.cap
			return true
		}
	}
	return false
}
