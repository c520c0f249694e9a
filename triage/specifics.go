package triage

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Specifics returns the details of a report that tell its incident apart:
// handles, names, places, times, weapons and uncommon words, weightiest
// first, at most maxSpecifics, each once.
func Specifics(text string) []Specific {
	toks := specTokens(text)
	var out []Specific
	seen := map[Specific]bool{}
	add := func(k Kind, v string) {
		if v == "" || len(v) > 64 {
			return
		}
		s := Specific{k, v}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	word := func(i int) string {
		if i >= 0 && i < len(toks) {
			return toks[i].text
		}
		return ""
	}
	// A capital in mid-sentence marks a name; at a sentence's start it
	// marks only the start ("Observed him...", "Buenas noches"), unless
	// the word is capitalised in mid-sentence elsewhere in the report.
	midCapital := map[string]bool{}
	for _, t := range toks {
		if t.capital && !t.acronym && !t.start {
			midCapital[t.text] = true
		}
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		v := t.text
		next, next2 := word(i+1), word(i+2)
		if len(v) > 40 {
			continue // not a word anyone would repeat
		}
		switch {
		case t.at:
			add(KindHandle, specHandle(v))
			add(KindHandle, specHandleCore(v))
		case specTitles[v] && specIsName(next) && (!specDeterminers[word(i-1)] || toks[i+1].capital):
			// "Mr. Smith", "Coach Díaz": a name whatever its case; but "a
			// nurse said", "un señor gritando" name nobody.
			add(KindName, next)
			i++
		case specTitles[v]:
			// A title alone ("Mr. D", "the coach") is no name.
		case (v == "named" || v == "called" || v == "llamado" || v == "llamada" || v == "llama") && next != "" && !specCommon[next]:
			if specHandleLike(next) {
				add(KindHandle, specHandle(next))
				add(KindHandle, specHandleCore(next))
			} else if specIsName(next) {
				add(KindName, next)
			}
			i++
		case specPhrases[v+" "+next] != (Specific{}):
			s := specPhrases[v+" "+next]
			add(s.Kind, s.Value)
			i++
		case v == "manana" && (word(i-1) == "la" || word(i-1) == "esta" || word(i-1) == "por"):
			// "por la mañana" is in the morning, not tomorrow.
		case specLettered[next] && specWingLetter(v, t.capital):
			add(KindRoom, next+" "+v) // "B wing", "c hall"
			i++
		case specLetteredJoined(v) != "":
			add(KindRoom, specLetteredJoined(v)) // "B-wing"
		case specNumbered[v] != "" && specNumberLike(next, v):
			add(KindRoom, specNumbered[v]+" "+next)
			i++
		case specNumberedJoined(v) != "":
			add(KindRoom, specNumberedJoined(v))
		case (v == "period" || v == "periodo" || v == "hour" || v == "block") && specDigits(next) && len(next) <= 2:
			add(KindClock, "period "+next)
			i++
		case specOrdinal(v) != "":
			n := specOrdinal(v)
			switch next {
			case "period", "pd", "hour", "hr", "block", "periodo":
				add(KindClock, "period "+n)
				i++
			case "floor", "piso":
				add(KindRoom, "floor "+n)
				i++
			case "grade", "grader", "graders", "grado":
				i++ // a year group: half the school is in one
			default:
				if d, _ := strconv.Atoi(n); d >= 1 && d <= 31 {
					add(KindClock, "date "+n)
				}
			}
		case specClock(v, next) != "":
			add(KindClock, specClock(v, next))
			if next == "am" || next == "pm" {
				i++
			}
		case specDate(v) != "":
			add(KindClock, specDate(v))
		case specDays[v] != "":
			add(KindDay, specDays[v])
		case specWeapons[v] != "":
			add(KindWeapon, specWeapons[v])
		case specPlaces[v] != "":
			add(KindPlace, specPlaces[v])
		case next == "room" && specAlpha(v) && !specCommon[v] && !specNumberLike(next2, "room"):
			add(KindPlace, v+" room") // "band room", "weight room"
			i++
		case specAlpha(v) && len(v) >= 3 && !specCommon[v] && !specAccountAdjective[v] && !specAccountWord(v) && specHandleLike(next) && len(next) <= 5 && strings.IndexFunc(next, unicode.IsDigit) > 0:
			// "lexi bby2": a handle with a space typed in ("lexi.bby2").
			add(KindHandle, specHandle(v+next))
			i++
		case specLook(v, next) != "":
			add(KindLook, specLook(v, next)) // "red hoodie", "sudadera roja"
			i++
		case specHandleLike(v):
			add(KindHandle, specHandle(v))
			add(KindHandle, specHandleCore(v))
		case specAlnum(v) && len(v) >= 4 && !specCommon[v] && !specAccountAdjective[v] && !specPlatforms[v] &&
			specDays[v] == "" && specWeapons[v] == "" && specPlaces[v] == "" && specAccounts[next]:
			// "the reaper account", "reaper acct": an account named by the word before it.
			add(KindHandle, specHandle(v))
			i++
		case specAlnum(v) && !specCommon[v] && specDigits(next) && len(next) <= 4 &&
			(specAccountWord(next2) || specAccountWord(word(i-1))):
			// "that darkreaper 09 acct": a handle with a space typed in.
			add(KindHandle, specHandle(v+next))
			i++
		case specAlnum(v) && !specCommon[v] && !specFirstNames[v] && specHandleContext(v, word(i-2), word(i-1), next, next2):
			add(KindHandle, specHandle(v))
		case specSchoolSuffix[next] || word(i-1) == "escuela" || word(i-1) == "colegio":
			// "Lincoln High": the organisation itself, in every report.
			if specSchoolSuffix[next] {
				i++
			}
		case t.capital && !t.acronym && !t.start && specNameLike[v]:
			add(KindName, v) // "saw Will at lunch"
		case t.capital && !t.acronym && specIsName(v) && (!t.start || midCapital[v] || len(v) >= 3 && !specWordShaped(v)):
			add(KindName, v)
		case specFirstNames[v] && !specCommon[v]:
			add(KindName, v) // "darius is selling...": texts are often all lower case
		case specAlpha(v) && len(v) >= 3 && !specCommon[v] && !strings.Contains(v, "'") && !strings.Contains(v, "-"):
			if w := specStem(v); !specCommon[w] {
				add(KindWord, w)
			}
		case specDigits(v) && len(v) >= 2 && len(v) <= 6:
			add(KindWord, v)
		}
	}
	// "Jake" and "jake" in one report: the name stands.
	out = slices.DeleteFunc(out, func(s Specific) bool {
		return s.Kind == KindWord && seen[Specific{KindName, s.Value}]
	})
	slices.SortStableFunc(out, func(a, b Specific) int { return cmp.Compare(b.Kind.weight(), a.Kind.weight()) })
	return out[:min(len(out), maxSpecifics)]
}

// specToken is a word of a report as Specifics reads it.
type specToken struct {
	text    string // lower case, without accents or possessive
	at      bool   // written "@name"
	capital bool   // began with a capital, in a text that is not all capitals
	acronym bool   // all capitals and short, in such a text: "KYS", "SRO"
	start   bool   // first word of a sentence
}

// specTokens splits text into words. Dots, apostrophes, hyphens, and colons
// and slashes between digits stay inside a word ("dark.reaper", "3:15",
// "3/14"); an apostrophe-s at the end goes ("Jake's" is "jake").
func specTokens(text string) []specToken {
	// In a text written all in capitals, a capital says nothing.
	var upper, lower int
	for _, r := range text {
		if unicode.IsUpper(r) {
			upper++
		} else if unicode.IsLower(r) {
			lower++
		}
	}
	shouting := upper > lower
	rs := []rune(text)
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }
	var out []specToken
	start := true
	for i := 0; i < len(rs); {
		r := rs[i]
		if !isWord(r) && !(r == '@' && i+1 < len(rs) && isWord(rs[i+1])) {
			switch r {
			case '.', '!', '?', '\n', '¿', '¡', ';':
				start = true
			}
			i++
			continue
		}
		at := r == '@'
		if at {
			i++
		}
		j := i
		for j < len(rs) {
			c := rs[j]
			if isWord(c) {
				j++
				continue
			}
			if j+1 < len(rs) && j > i {
				prev, nx := rs[j-1], rs[j+1]
				switch c {
				case '.', '-', '\'', '\u2019':
					if isWord(prev) && isWord(nx) {
						j++
						continue
					}
				case ':', '/':
					if unicode.IsDigit(prev) && unicode.IsDigit(nx) {
						j++
						continue
					}
				}
			}
			break
		}
		raw := string(rs[i:j])
		i = j
		first, _ := utf8.DecodeRuneInString(raw)
		t := specToken{text: specFold(raw), at: at, capital: !shouting && unicode.IsUpper(first), start: start}
		t.acronym = t.capital && utf8.RuneCountInString(raw) <= 4 && strings.ToUpper(raw) == raw
		start = false
		if t.text != "" {
			out = append(out, t)
		}
	}
	return out
}

// specFold lower-cases a word, takes accents off its letters and a
// possessive off its end.
func specFold(s string) string {
	w := strings.ToLower(s)
	if specASCII(w) {
		w = strings.TrimSuffix(w, "'s")
		return strings.TrimSuffix(w, "'")
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(w) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == '\u2019':
			b.WriteByte('\'')
		default:
			b.WriteRune(r)
		}
	}
	w = strings.TrimSuffix(b.String(), "'s")
	return strings.TrimSuffix(w, "'")
}

func specASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// specStem takes a plural's ending off a common noun, so that "lockers"
// meets "locker". Only an s after a consonant goes: after a vowel it is
// as likely a name in lower case ("carlos", "lucas", "james").
func specStem(w string) string {
	n := len(w)
	switch {
	case n > 4 && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") ||
		strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "sses")):
		return w[:n-2]
	case n > 3 && w[n-1] == 's' && !strings.ContainsRune("aeiouys'", rune(w[n-2])):
		return w[:n-1]
	}
	return w
}

// specHandle is a handle as compared: without "@", dots or underscores,
// which reporters drop or misplace ("darkreaper09", "dark_reaper_09").
func specHandle(v string) string { return specHandleMarks.Replace(v) }

var specHandleMarks = strings.NewReplacer("_", "", ".", "", "-", "")

// specWordShaped tells whether a word ends as English and Spanish verbs,
// nouns and adverbs do and names seldom do ("Observed", "Requesting",
// "Passengers", "Gritando"): at a sentence's start its capital is no
// sign of a name.
func specWordShaped(v string) bool {
	for _, suffix := range []string{"ing", "ed", "ly", "tion", "sion", "ment", "ness", "ers", "ors", "ando", "iendo", "ado", "ido", "ada", "ida"} {
		if strings.HasSuffix(v, suffix) && len(v) > len(suffix)+2 {
			return true
		}
	}
	return false
}

// specLook reads a description of someone, a colour and a garment in
// either order ("red hoodie", "sudadera roja"), as one canonical value;
// "" if v and next are not one.
func specLook(v, next string) string {
	if c, g := specColours[v], specGarments[next]; c != "" && g != "" {
		return c + " " + g
	}
	if g, c := specGarments[v], specColours[next]; c != "" && g != "" {
		return c + " " + g
	}
	return ""
}

// specHandleCore is a handle without the decoration reporters drop when
// they retell it: runs of x between dots or underscores ("xx.reaper.xx"
// is "reaper"). "" when there is none to take off.
func specHandleCore(v string) string {
	parts := strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '_' || r == '-' })
	if len(parts) < 2 {
		return ""
	}
	var kept []string
	for _, p := range parts {
		if strings.Trim(p, "x") != "" {
			kept = append(kept, p)
		}
	}
	core := strings.Join(kept, "")
	if len(kept) == len(parts) || len(core) < 4 || specCommon[core] {
		return ""
	}
	return core
}

// specAccountAdjective are words that describe an account rather than
// name it: "a fake account", "his main acct".
var specAccountAdjective = specSet(`fake scam spam new burner private main second anonymous anon secret alt backup gossip
	confession confessions burn tea fan school class group finsta rinsta old personal public bot hacked official
	parody meme spirit team club falsa nueva anonima privada`)

// specHandleLike tells whether a word can only be an account name: it has
// an underscore, a dot between letters, or letters run into digits
// ("darkreaper_09", "dark.reaper", "jdoe2009"), and is no known word.
func specHandleLike(v string) bool {
	if len(v) < 4 || specWeapons[v] != "" || specDays[v] != "" || specCommon[v] {
		return false
	}
	if strings.Contains(v, "_") {
		return strings.IndexFunc(v, unicode.IsLetter) >= 0
	}
	if strings.Contains(v, ".") {
		// "dark.reaper", not "a.m." or "u.s." or a domain.
		parts := strings.Split(v, ".")
		if len(parts[0]) < 2 || len(parts[len(parts)-1]) < 2 {
			return false
		}
		switch parts[len(parts)-1] {
		case "com", "net", "org", "edu", "gov", "gg", "io", "co", "me", "tv", "us":
			return false
		}
		return specAlnum(strings.ReplaceAll(v, ".", ""))
	}
	// Letters then digits: "jdoe2009", "killer99"; not "3rd", "9mm", "ar15".
	var letters, digits int
	for i, r := range v {
		switch {
		case unicode.IsLetter(r):
			if digits > 0 {
				return false
			}
			letters++
		case unicode.IsDigit(r):
			if i == 0 {
				return false
			}
			digits++
		default:
			return false
		}
	}
	return letters >= 3 && digits >= 1
}

// specIsName tells whether a word can be a personal name.
func specIsName(v string) bool {
	return len(v) >= 2 && specAlpha(v) && !specCommon[v] && !specCommon[strings.ReplaceAll(v, "'", "")] && specDays[v] == "" &&
		specPlaces[v] == "" && specWeapons[v] == "" && !specPlatforms[v]
}

func specAccountWord(w string) bool { return specPlatforms[w] || specAccounts[w] }

// specHandleContext tells whether an uncommon word v is, by the words
// around it, an account name: "darkreaper on insta", "his snap is
// darkreaper", "user darkreaper". Same-worded reports share their context,
// so a word taken for a handle wrongly would join them: the word must not
// look like an ordinary one ("pills on snapchat", "circulating on
// snapchat", "a video on tiktok").
func specHandleContext(v, prev2, prev, next, next2 string) bool {
	switch {
	case specAccounts[prev]:
		return true
	case (prev == "is" || prev == "es") && specPlatforms[prev2]:
		return true
	case (next == "on" || next == "en") && specPlatforms[next2] && !specDeterminers[prev]:
		for _, suffix := range []string{"s", "ing", "ed", "ly", "tion", "ado", "ada", "ido", "ida"} {
			if strings.HasSuffix(v, suffix) {
				return false
			}
		}
		return true
	}
	return false
}

// specNumberLike tells whether the word after "room" or "bus" is its
// number: "204", "204b", "b204", or a letter for a building or wing.
func specNumberLike(v, place string) bool {
	if v == "" || len(v) > 5 {
		return false
	}
	if len(v) == 1 && unicode.IsLetter(rune(v[0])) {
		switch specNumbered[place] {
		case "building", "wing", "gate", "portable", "hall":
			return true
		}
		return false
	}
	return strings.IndexFunc(v, unicode.IsDigit) >= 0 && specAlnum(v)
}

// specLettered are places named by a letter: "B wing", "c hall".
var specLettered = specSet("wing hall building pod")

// specWingLetter tells whether v is the letter of a wing or hall: not the
// article "a" or a Spanish conjunction, unless capitalised.
func specWingLetter(v string, capital bool) bool {
	if len(v) != 1 || v[0] < 'a' || v[0] > 'z' {
		return false
	}
	return capital || !strings.Contains("aeiouy", v)
}

// specLetteredJoined reads "b-wing" as "wing b".
func specLetteredJoined(v string) string {
	l, place, ok := strings.Cut(v, "-")
	if ok && len(l) == 1 && l[0] >= 'a' && l[0] <= 'z' && specLettered[place] {
		return place + " " + l
	}
	return ""
}

// specNumberedJoined reads a room written as one word: "room204", "rm12".
func specNumberedJoined(v string) string {
	i := strings.IndexFunc(v, unicode.IsDigit)
	if i <= 0 || !specDigits(v[i:]) || len(v)-i > 4 {
		return ""
	}
	if p := specNumbered[v[:i]]; p != "" {
		return p + " " + v[i:]
	}
	return ""
}

// specOrdinal returns the number of "3rd", "15th"; "" for other words.
func specOrdinal(v string) string {
	if len(v) < 3 || len(v) > 4 {
		return ""
	}
	n, suf := v[:len(v)-2], v[len(v)-2:]
	if !specDigits(n) {
		return ""
	}
	switch suf {
	case "st", "nd", "rd", "th":
		return strings.TrimLeft(n, "0")
	}
	return ""
}

// specClock reads a time of day: "3pm", "3:15", "3:15pm", "3 pm", as
// "3pm", "3:15", "3:15pm".
func specClock(v, next string) string {
	t := v
	suffix := ""
	for _, s := range []string{"am", "pm"} {
		if strings.HasSuffix(t, s) {
			t, suffix = strings.TrimSuffix(t, s), s
		}
	}
	if suffix == "" && (next == "am" || next == "pm") {
		suffix = next
	}
	h, m, hasMin := strings.Cut(t, ":")
	if !specDigits(h) || len(h) > 2 {
		return ""
	}
	if hour, _ := strconv.Atoi(h); hour > 24 {
		return ""
	}
	h = strings.TrimLeft(h, "0")
	if h == "" {
		h = "0"
	}
	switch {
	case hasMin && specDigits(m) && len(m) == 2:
		if m == "00" && suffix != "" {
			return h + suffix
		}
		return h + ":" + m + suffix
	case !hasMin && suffix != "":
		return h + suffix
	}
	return ""
}

// specDate reads "3/14" or "3/14/2025" as "date 3/14".
func specDate(v string) string {
	parts := strings.Split(v, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return ""
	}
	for _, p := range parts {
		if !specDigits(p) || len(p) > 4 {
			return ""
		}
	}
	if len(parts[0]) > 2 || len(parts[1]) > 2 {
		return ""
	}
	return "date " + strings.TrimLeft(parts[0], "0") + "/" + strings.TrimLeft(parts[1], "0")
}

func specDigits(v string) bool {
	return v != "" && strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

func specAlpha(v string) bool {
	return v != "" && strings.IndexFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '-' }) < 0
}

func specAlnum(v string) bool {
	return v != "" && strings.IndexFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) < 0
}

// fingerprint hashes a text's words, lower-cased, without punctuation.
func fingerprint(text string) string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
	sum := sha256.Sum256([]byte(strings.Join(words, " ")))
	return hex.EncodeToString(sum[:16])
}

// The word lists Specifics reads. They are built once and only read.
var (
	specWeekdays = specSet("monday tuesday wednesday thursday friday saturday sunday")

	// specDays maps the ways reporters write a day, in English, Spanish
	// and text-speak, to one word. Ambiguous short forms ("sat", "sun",
	// "wed", "mon") are left out: they are also words.
	specDays = specTable(
		"monday|monday lunes",
		"tuesday|tuesday tues tue tusday martes",
		"wednesday|wednesday weds wensday wendsday wednsday wedensday wednesay miercoles",
		"thursday|thursday thurs thur thu thrusday thursdy jueves",
		"friday|friday fri frid fryday friady firday fridy viernes",
		"saturday|saturday saturady saterday satuday sabado",
		"sunday|sunday sundy domingo",
		"today|today 2day tdy 2dy hoy",
		"tonight|tonight 2nite 2night tonite tonigt",
		"tomorrow|tomorrow tmrw tmr tmrow tmro tmw tmrrw 2moro 2morrow 2morow 2mrw tomoz tommorow tommorrow tomorow tomorro tommorw manana",
		"yesterday|yesterday yday yest ayer anoche",
		"weekend|weekend wknd finde",
		"lunch|lunch lunchtime almuerzo",
		"recess|recess recreo",
		"january|january enero", "february|february febrero", "march|march marzo", "april|april abril",
		"june|june junio", "july|july julio", "august|august agosto", "september|september sept septiembre",
		"october|october octubre", "november|november noviembre", "december|december diciembre",
	)
	specWeapons = specTable(
		"gun|gun guns gunn gunz handgun handguns pistol pistols glock glocks firearm firearms revolver revolvers 9mm pistola pistolas arma armas",
		"rifle|rifle rifles ar15 ar-15 ak47 ak-47 shotgun shotguns escopeta escopetas",
		"knife|knife knives blade blades switchblade machete machetes pocketknife boxcutter cuchillo cuchillos navaja navajas",
		"bomb|bomb bombs pipebomb explosive explosives ied bomba bombas explosivo explosivos dynamite dinamita",
		"ammo|ammo ammunition bullet bullets bala balas municion municiones",
		// Means of self-harm are means too.
		"pills|pill pills pastilla pastillas overdose",
		"rope|rope noose soga",
	)
	specPlaces = specTable(
		"gym|gym gyms gymnasium gimnasio",
		"cafeteria|cafeteria cafe caf cafetaria cafateria cafetira lunchroom comedor",
		"bathroom|bathroom bathrooms restroom restrooms washroom washrooms toilet toilets bano banos sanitario sanitarios",
		"library|library libary biblioteca",
		"hallway|hallway hallways hall halls pasillo pasillos corridor corridors",
		"auditorium|auditorium auditorio theater theatre",
		"field|field stadium estadio cancha bleachers gradas",
		"playground|playground patio",
		"office|office oficina",
		"parking lot|parking parkinglot estacionamiento parqueadero",
		"courtyard|courtyard quad commons",
		"stairwell|stairwell stairs staircase escaleras",
		"locker room|lockerroom vestidor vestidores vestuario",
		"entrance|entrance entrada",
		"lobby|lobby",
		"warehouse|warehouse almacen bodega",
		"basement|basement sotano",
		"roof|roof rooftop",
		"park|park parque",
		"church|church iglesia",
		"mall|mall",
		"bus|bus buses autobus camion",
		"assembly|assembly assemblies asamblea",
		"prom|prom",
		"homecoming|homecoming",
		"graduation|graduation graduacion",
		"dance|dance baile",
		"concert|concert concierto",
	)
	// specPhrases are two-word specifics, keyed by their folded words.
	specPhrases = specPhraseTable(
		"place|parking lot|parking lot, parking garage, student parking",
		"place|locker room|locker room, locker rooms",
		"place|bathroom|boys bathroom, girls bathroom, boys room, girls room",
		"place|office|main office, front office",
		"place|bus stop|bus stop",
		"place|field|football field, soccer field, baseball field, softball field",
		"place|pep rally|pep rally",
		"place|field trip|field trip",
		"day|after school|after school",
		"day|before school|before school",
		"day|tonight|esta noche",
		"day|day after tomorrow|pasado manana",
	)
	// specNumbered are places that take a number: "room 204", "bus 14".
	specNumbered = specTable(
		"room|room rm classroom aula salon cuarto",
		"bus|bus autobus camion ruta route",
		"building|building bldg edificio",
		"portable|portable trailer",
		"lab|lab laboratorio",
		"locker|locker",
		"gate|gate puerta",
		"hall|hall",
		"wing|wing",
		"floor|floor piso",
	)
	specTitles = specSet(`mr mrs ms miss mx dr coach sr sra srta senor senora senorita profe profesor
		profesora maestro maestra principal officer deputy sgt sergeant counselor pastor nurse`)
	specPlatforms = specSet(`insta ig instagram snap snapchat sc tiktok tt twitter discord yt youtube fb
		facebook reddit twitch roblox xbox psn steam telegram whatsapp kik threads bereal`)
	// specNameLike are common words that are names when capitalised in
	// the middle of a sentence.
	specNameLike    = specSet("will mark bill pat grace hope rose joy faith may june april august summer angel chase hunter jay ray dawn art drew gene")
	specDeterminers = specSet(`a an the of his her my their your our some any every this that these those
		un una el la los las ese esa este esta su sus mi`)
	// specFirstNames are given names common among students and staff in
	// the US, English and Spanish, that are no common word: a report in
	// lower case names "jake" as surely as "Jake".
	specFirstNames = specSet(`
	aaliyah aaron abigail adam adrian adriana aiden aidan alan alejandra alejandro alex alexa alexander alexandra alexis alicia alondra alyssa amanda amber amelia amir amy ana andre andrea andres andrew andy angela angelica anna annie anthony antonio ariana arianna ashley aubrey audrey austin ava avery
	bella benjamin bianca blake brandon brayden brenda brian brianna brittany brooke bryan bryce caleb camila cameron carla carlos carmen carolina caroline carson carter cassandra catherine cesar chloe christian christina christopher cindy claire claudia cody colton connor cristian crystal cynthia
	daisy dakota damian daniel daniela danielle dante darius david deandre denise derek destiny devin diana diego dominic dylan eduardo elena eli elijah elizabeth ella ellie emily emiliano emma eric erica erik esteban esther ethan evan evelyn
	fernanda fernando francisco gabriel gabriela gabriella gavin genesis giovanni gonzalo guadalupe hailey hannah hayden hector hugo ian isaac isabel isabella isaiah ivan jacob jada jaden jaime jake jalen jamal james jared jasmine jason javier jayden jenna jennifer jeremiah jeremy jesse jessica jesus jocelyn joel john johnny jonathan jordan jorge jose joseph joshua josue juan julia julian juliana julio justin
	kaitlyn karen karina kayla kaylee keith kelly kelvin kendall kenneth kevin kiara kimberly kyle kylie landon laura lauren layla leah leonardo leslie liam lily lincoln logan lorena lucas lucia luis luke luna lydia madeline madison makayla malik manuel marco marcos marcus maria mariah mariana marisol mario marissa martin mason mateo matthew maya megan melanie melissa mia michael michelle miguel miley miranda mohamed morgan
	naomi natalia natalie nathan nathaniel nicholas nicole noah nora oliver olivia omar oscar owen pablo paige paola patricia paul pedro peyton rachel rafael ramon raul rebecca ricardo richard riley roberto rodrigo ryan
	samantha samuel santiago sara sarah savannah scarlett sean sebastian sergio seth shane sierra sofia sophia stephanie steven sydney tanner tatiana taylor thomas timothy tomas travis trevor trinity tristan tyler uriel valentina valeria valerie vanessa veronica victor victoria vincent wesley william wyatt xavier ximena yahir yesenia yolanda zachary zoe
	`)
	specAccounts = specSet("account acct user username handle cuenta usuario")
	// specColours and specGarments make a description of someone
	// ("red hoodie"): English and Spanish, in either gender.
	specColours = specTable(
		"red|red roja rojo", "blue|blue azul", "green|green verde", "black|black negra negro",
		"white|white blanca blanco", "gray|gray grey gris", "yellow|yellow amarilla amarillo",
		"orange|orange naranja anaranjada anaranjado", "purple|purple morada morado", "pink|pink rosa rosada rosado",
		"brown|brown cafe marron", "tan|tan beige", "camo|camo camouflage camuflaje")
	specGarments = specTable(
		"hoodie|hoodie hoody hoodies sweatshirt sweater sudadera sueter buzo",
		"jacket|jacket coat jackets chaqueta chamarra abrigo campera",
		"hat|hat cap beanie hats gorra gorro sombrero",
		"shirt|shirt tshirt t-shirt tee camisa camiseta playera polo",
		"pants|pants jeans pantalones pantalon joggers sweatpants",
		"backpack|backpack bookbag mochila",
		"car|car truck suv van carro coche camioneta auto",
		"mask|mask ski-mask mascara pasamontanas")
	// specSchoolSuffix follow a school's name: "Lincoln High".
	specSchoolSuffix = specSet(`high middle elementary school academy college university prep hs ms
		secundaria preparatoria primaria`)

	// specCommon are words too common to tell incidents apart: English and
	// Spanish function words, the vocabulary every report shares (school,
	// teacher, posted, threatened), text-speak, platforms, and the words
	// that begin sentences with a capital without being names.
	specCommon = specSet(`
	a about above across actually after again against ago ah all almost alone along already also although always am among an and another any anybody anyone anything anyway anywhere are aren arent around as ask asked asking at away
	back bad badly be became because become been before behind being believe below beside besides best better between beyond big both but by
	came can cannot cant could couldnt
	did didnt do does doesnt doing done dont down during
	each early earlier either else elsewhere enough even ever every everybody everyone everything everywhere exactly
	far few first for from front full further
	gave get gets getting give given gives go goes going gone good got gotten great
	had hadnt half happen happened happening happens has hasnt have havent having he hed hell her here hers herself hes him himself his how however
	i id if ill im in inside instead into is isnt it its itself ive
	just
	keep keeps kept kind knew know known knows
	last late later least left less let lets like likely little long look looked looking looks lot lots
	made make makes making many may maybe me mean means meant might mine more most much must my myself
	near nearly need needed needs neither never new next no nobody none nor not nothing now nowhere
	of off often oh ok okay old on once one only onto or other others otherwise our ours ourselves out outside over own
	part past people per perhaps place please plus possibly pretty probably put
	quite
	rather really right
	said same saw say saying says see seem seemed seems seen several shall she shed shell shes should shouldnt since so some somebody someone something sometime sometimes somewhere soon still such sure
	take taken takes taking tell telling tells than that thats the their theirs them themselves then there theres these they theyd theyll theyre theyve thing things think thinking thinks this those though thought through thru till to together told too took toward towards tried tries try trying
	under until up upon us use used using usually
	very via
	want wanted wanting wants was wasnt way we wed well went were werent weve what whatever whats when whenever where whether which while who whoever whole whom whos whose why will with within without wont would wouldnt
	yes yet you youd youll your youre yours yourself yourselves youve
	one two three four five six seven eight nine ten eleven twelve twenty hundred thousand second third fourth fifth once twice
	morning afternoon evening night day days week weeks weekday month months year years time times hour hours minute minutes moment period class classes schedule
	school schools campus grade grades semester test tests quiz exam homework project assignment
	student students kid kids boy boys girl girls guy guys child children teen teens teenager teenagers man men woman women person persons lady dude bro bruh friend friends buddy classmate classmates
	teacher teachers staff principal counselor counselors nurse admin administration administrator janitor custodian security police cop cops officer officers sro coach coaches driver manager boss supervisor coworker coworkers employee employees customer customers neighbor neighbors neighbour
	mom mother dad father parent parents brother sister family uncle aunt cousin grandma grandpa stepdad stepmom boyfriend girlfriend bf gf ex home house car phone
	post posts posted posting story stories snap snaps video videos vid pic pics picture pictures photo photos message messages text texts texted texting dm dms chat chats group gc comment comments account accounts page online social media screenshot screenshots link live stream reel reels caption status
	threat threats threaten threatens threatened threatening kill kills killed killing shoot shoots shooting shot shots stab stabs stabbed stabbing hurt hurts hurting hit hits hitting punch punched fight fights fighting fought attack attacks attacked attacking murder die dies died dying dead death blow blowing bring brings bringing brought carry carrying show showed showing shown
	bully bullies bullied bullying harass harassing harassed harassment scared scary afraid fear worried worry concerned concern weird strange serious seriously real really crazy angry mad upset sad depressed joke joking kidding funny true false rumor rumors rumour heard hear hearing overheard
	help please thanks thank sorry hi hello hey dear urgent emergency warning note update anonymous report reporting reported tip tips info information
	sum1 some1 any1 every1 evry1 no1 ne1 str8 ps4 ps5 mp3 mp4 covid19
	kys kms stfu gtfo ffs check yo
	u ur r ppl rn gonna wanna gotta lol lmao lmfao omg idk idc tbh ngl fr frfr ong imo ik ikr bc cuz cause cos tho abt pls plz thx ty ya yea yeah yep nah nope k kk smh wtf btw fyi asap irl jk af ppl yall yall im ima imma finna tryna lemme gimme dunno kinda sorta alot
	instagram insta snapchat tiktok twitter discord youtube facebook reddit google iphone android xbox roblox fortnite minecraft
	english spanish math science history chemistry biology physics art music band choir pe ela esl health gym
	god jesus christmas halloween thanksgiving easter
	apparently basically literally definitely honestly obviously supposedly allegedly anyways multiple everyone's someone's
	new old young big small last next other own same whole
	write writes wrote written writing call calls called calling walk walked walking run runs ran running talk talks talked talking yell yelled yelling scream screamed screaming cry cried crying laugh laughed laughing
	leave leaves leaving stay stayed wait waiting watch watched watching find found lose lost start started starting stop stopped sit sat stand stood open opened close closed turn turned move moved play played playing
	send sending sent share shared sharing noticed notice asked answer answered ended end hate hates hated love loves loved liked feel feels felt feeling act acting acted mention mentioned claim claims claimed brag bragging bragged
	pull pulled push pushed grab grabbed hold holding held hide hiding hid hidden buy bought buying sell selling sold steal stole stolen break broke broken throw threw kick kicked beat beating slap slapped touch touched
	follow followed following record recorded film filmed tag tagged reply replied respond responded plan plans planned planning planing list lists note notes paper drawing drawings board wall desk door window
	computer laptop game games party problem problems issue issues trouble stuff reason life world money
	backpack bag bags pocket pockets waistband hand hands head face body
	de del la las el los un una unos unas y o e u pero que como cuando donde por para con sin sobre entre hasta desde hacia segun
	mi mis tu tus su sus yo el ella ellos ellas nosotros nosotras usted ustedes me te se le les lo nos os tuyo suyo
	es son esta estan estaba estaban estoy estamos fue fueron era eran ser estar sido hay habia tiene tienen tengo tenia va van voy vamos iba
	dijo dice dicen decir dijeron hacer hace hizo hicieron quiere quieren quiero queria puede pueden podria creo cree sabe se
	todo todos toda todas nada algo alguien nadie muy mas menos ya no si tambien porque pues este estos estas ese esa eso esos esas aqui alli ahi ahora luego despues antes siempre nunca otra otro otros
	escuela colegio clase clases maestro maestra maestros profe alumno alumna alumnos estudiante estudiantes amigo amiga amigos chico chica chicos chicas nino nina ninos muchacho muchacha
	matar mata mato disparar dispara golpear pega pegar traer trae trajo amenaza amenazo amenazas publico historia video cuenta miedo hola ayuda gracias favor policia mama papa hermano hermana casa dia semana noche tarde hora
	`)
)

// specSet makes a set of the words in s.
func specSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// specTable maps each variant of "canonical|variant variant..." lines to
// its canonical form.
func specTable(lines ...string) map[string]string {
	m := map[string]string{}
	for _, l := range lines {
		canon, variants, _ := strings.Cut(l, "|")
		for _, v := range strings.Fields(variants) {
			m[v] = canon
		}
	}
	return m
}

// specPhraseTable maps each two-word phrase of "kind|value|phrase,
// phrase" lines to its specific.
func specPhraseTable(lines ...string) map[string]Specific {
	m := map[string]Specific{}
	for _, l := range lines {
		parts := strings.SplitN(l, "|", 3)
		for _, p := range strings.Split(parts[2], ",") {
			m[strings.Join(strings.Fields(p), " ")] = Specific{Kind(parts[0]), parts[1]}
		}
	}
	return m
}
