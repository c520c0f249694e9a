package web

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tipline/tipline/intake"
)

// localeFiles are the message catalogues, one file per language, named by
// its language tag (en.json, es.json). Every file in the folder is loaded,
// so a translator adds a language by adding a file.
//
//go:embed locales/*.json
var localeFiles embed.FS

// defaultLang is the catalogue every other one is checked against, and the
// language of a reporter whose browser asks for none the site speaks.
const defaultLang = "en"

// langNameKey is each catalogue's name for its own language, as the
// language switcher shows it ("English", "Español").
const langNameKey = "language.name"

// langField is the query parameter and hidden form field that carry a
// reporter's choice of language from page to page. There is no cookie for
// it: the site sets none but the CSRF one.
const langField = "lang"

var (
	// langTagPattern is a language tag as a file may be named: "es",
	// "pt-BR", "zh-Hant". Matching lower-cases it.
	langTagPattern = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	// placeholderPattern is a value to fill in a message: "{limit}".
	placeholderPattern = regexp.MustCompile(`\{([a-z0-9_]+)\}`)
)

// catalog holds every language's messages. It is built once at start-up
// and only read after that, so it is safe for concurrent use.
type catalog struct {
	langs    []string                     // tags, defaultLang first, then in order
	messages map[string]map[string]string // by tag, then key
}

// loadCatalog reads every *.json file at the root of fsys. Each is a flat
// object of key → message. A catalogue that lacks a key English has, has a
// key English lacks (a misspelt key would never be shown), or leaves out or
// invents a placeholder is an error that names the file and the key, so a
// translator's slip stops start-up instead of showing a reporter a blank.
func loadCatalog(fsys fs.FS) (*catalog, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, fmt.Errorf("web: locales: %w", err)
	}
	c := &catalog{messages: make(map[string]map[string]string, len(names))}
	var errs []error
	for _, name := range names {
		tag := strings.TrimSuffix(path.Base(name), ".json")
		if !langTagPattern.MatchString(tag) {
			errs = append(errs, fmt.Errorf("web: locale %s: the file name must be a language tag, as es.json or pt-BR.json", name))
			continue
		}
		tag = strings.ToLower(tag)
		if _, dup := c.messages[tag]; dup {
			errs = append(errs, fmt.Errorf("web: locale %s: a second file for language %q", name, tag))
			continue
		}
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("web: locale %s: %w", name, err))
			continue
		}
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			errs = append(errs, fmt.Errorf("web: locale %s: must be one JSON object of \"key\": \"message\" pairs: %w", name, err))
			continue
		}
		for _, k := range sortedKeys(m) {
			if strings.TrimSpace(m[k]) == "" {
				errs = append(errs, fmt.Errorf("web: locale %s: key %q is empty", name, k))
			}
		}
		c.messages[tag] = m
		c.langs = append(c.langs, tag)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	en, ok := c.messages[defaultLang]
	if !ok {
		return nil, fmt.Errorf("web: locales: no %s.json, the catalogue every other is checked against", defaultLang)
	}
	slices.SortFunc(c.langs, func(a, b string) int {
		switch {
		case a == defaultLang:
			return -1
		case b == defaultLang:
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, k := range codeKeys() {
		if _, ok := en[k]; !ok {
			errs = append(errs, fmt.Errorf("web: locale %s.json: missing key %q, which the code uses", defaultLang, k))
		}
	}
	if _, ok := en[langNameKey]; !ok {
		errs = append(errs, fmt.Errorf("web: locale %s.json: missing key %q", defaultLang, langNameKey))
	}
	for _, tag := range c.langs[1:] {
		errs = append(errs, compareCatalog(tag+".json", en, c.messages[tag])...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// compareCatalog lists how a translation differs from English in its keys
// and placeholders.
func compareCatalog(file string, en, tr map[string]string) []error {
	var errs []error
	for _, k := range sortedKeys(en) {
		msg, ok := tr[k]
		if !ok {
			errs = append(errs, fmt.Errorf("web: locale %s: missing key %q", file, k))
			continue
		}
		if want, got := placeholders(en[k]), placeholders(msg); !slices.Equal(want, got) {
			errs = append(errs, fmt.Errorf("web: locale %s: key %q has placeholders %v; English has %v", file, k, got, want))
		}
	}
	for _, k := range sortedKeys(tr) {
		if _, ok := en[k]; !ok {
			errs = append(errs, fmt.Errorf("web: locale %s: key %q is not in %s.json (misspelt?)", file, k, defaultLang))
		}
	}
	return errs
}

// placeholders are the distinct names a message fills in, sorted.
func placeholders(msg string) []string {
	var names []string
	for _, m := range placeholderPattern.FindAllStringSubmatch(msg, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// text is a message in lang with its placeholders filled from args, given
// as name, value pairs. It is plain text; templates escape it.
func (c *catalog) text(lang, key string, args ...any) (string, error) {
	return c.expand(lang, key, false, args)
}

// html is a message in lang as HTML: the message and plain values are
// escaped, while values of type template.HTML (a tel: link the code built)
// go in as they are. A translator's text can never add markup.
func (c *catalog) html(lang, key string, args ...any) (template.HTML, error) {
	s, err := c.expand(lang, key, true, args)
	return template.HTML(s), err
}

func (c *catalog) expand(lang, key string, asHTML bool, args []any) (string, error) {
	msgs, ok := c.messages[lang]
	if !ok {
		msgs = c.messages[defaultLang]
	}
	msg, ok := msgs[key]
	if !ok {
		return "", fmt.Errorf("web: no message %q", key)
	}
	if len(args)%2 != 0 {
		return "", fmt.Errorf("web: message %q: arguments must be name, value pairs", key)
	}
	esc := func(s string) string { return s }
	if asHTML {
		esc = template.HTMLEscapeString
	}
	var b strings.Builder
	last := 0
	for _, m := range placeholderPattern.FindAllStringSubmatchIndex(msg, -1) {
		b.WriteString(esc(msg[last:m[0]]))
		name := msg[m[2]:m[3]]
		v, ok := argValue(args, name)
		if !ok {
			return "", fmt.Errorf("web: message %q: no value for {%s}", key, name)
		}
		if h, isHTML := v.(template.HTML); isHTML && asHTML {
			b.WriteString(string(h))
		} else {
			b.WriteString(esc(fmt.Sprint(v)))
		}
		last = m[1]
	}
	b.WriteString(esc(msg[last:]))
	return b.String(), nil
}

func argValue(args []any, name string) (any, bool) {
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == name {
			return args[i+1], true
		}
	}
	return nil, false
}

// name is a language's name for itself.
func (c *catalog) name(lang string) string {
	return c.messages[lang][langNameKey]
}

// match returns the catalogue's tag for a language as a browser or a
// person writes it ("es", "ES-mx", "es_MX"), dropping subtags from the end
// until a catalogue has it: es-MX is served Spanish.
func (c *catalog) match(tag string) (string, bool) {
	t := strings.ToLower(strings.TrimSpace(tag))
	if len(t) > 64 {
		return "", false
	}
	t = strings.ReplaceAll(t, "_", "-")
	for t != "" {
		if _, ok := c.messages[t]; ok {
			return t, true
		}
		i := strings.LastIndexByte(t, '-')
		if i < 0 {
			break
		}
		t = t[:i]
	}
	return "", false
}

// maxAcceptLanguages bounds the ranges read from Accept-Language: browsers
// send a handful, and a long header must cost no more than a short one.
const maxAcceptLanguages = 32

// fromAcceptLanguage picks, from an Accept-Language header, the language
// with the highest q-value that the site speaks. Equal q-values keep the
// browser's order, q=0 means "not this one", and a header naming nothing
// the site speaks (or none at all) gets defaultLang.
func (c *catalog) fromAcceptLanguage(header string) string {
	best, bestQ := defaultLang, 0.0
	rest := header
	for range maxAcceptLanguages {
		if rest == "" {
			break
		}
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		rng, params, _ := strings.Cut(part, ";")
		q := 1.0
		for params != "" {
			var p string
			p, params, _ = strings.Cut(params, ";")
			k, v, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || !(f >= 0 && f <= 1) { // also refuses NaN
					f = 0
				}
				q = f
			}
		}
		if q <= bestQ {
			continue
		}
		if tag, ok := c.match(rng); ok {
			best, bestQ = tag, q
		}
	}
	return best
}

// codeKeys are the keys that Go code, not a template, looks up. English
// must have each; start-up checks, so a key the code asks for is never
// missing when a reporter needs its message.
func codeKeys() []string {
	keys := []string{
		keyNoMatch, keyLookupFailed, keyNotSaved, keyTooMany, keyFormExpired,
		keyUploadTooLarge, keyReplyNotSaved, keyReplyAdded, keyReplyAlready,
		keyFromTeam, keyFromYou, keyImagesAgain,
		keyAPINotSaved, keyAPINoMatch, keyAPILookupFailed, keyAPIMessageNotSaved,
		keyAPIUnsupported, keyAPITooLarge, keyAPIEmpty, keyAPIEndsEarly, keyAPISyntax,
		keyAPINotObject, keyAPIFieldText, keyAPIFieldBool, keyAPIUnknownField,
		keyAPINotJSON, keyAPIOneObject,
	}
	for _, s := range []intake.Status{intake.StatusReceived, intake.StatusAssigned, intake.StatusInReview, intake.StatusClosed, ""} {
		name, text := statusKeys(s)
		keys = append(keys, name, text)
	}
	for _, st := range errorStatuses() {
		heading, msg := statusMessageKeys(st)
		keys = append(keys, heading, msg)
	}
	for _, code := range []string{
		intake.ErrRequired, intake.ErrTooLong, intake.ErrInvalidText, intake.ErrUnknownCategory,
		intake.ErrTooManyImages, intake.ErrImageTooLarge, intake.ErrImageType, "",
	} {
		keys = append(keys, fieldErrorKey(code))
	}
	for _, f := range []string{"org", "category", "body", "location", "when", "subject", "contact", "images"} {
		keys = append(keys, fieldLabelKey(formReport, f))
	}
	keys = append(keys, fieldLabelKey(formReply, "body"))
	for _, cat := range intake.Categories {
		keys = append(keys, "category."+cat.ID+".name", "category."+cat.ID+".description")
	}
	return keys
}
