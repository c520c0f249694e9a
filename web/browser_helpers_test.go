package web_test

// Helpers for browser_test.go: finding Chromium and axe-core, one tab at a
// phone's size, screenshots, the accessibility check, the message
// catalogues, and a JPEG that carries GPS coordinates in its EXIF data.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds one step of a flow: a navigation, a form post, a check.
// It is generous: CI's machine has two cores, shared with the other tests.
const stepTimeout = 30 * time.Second

// unavailable skips a test that needs a tool this machine lacks, except in
// CI, which must have every tool: there the test fails.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; CI must have it: .ci/run installs it", msg)
	}
	t.Skipf("%s; `bash .ci/run` installs it (as root)", msg)
}

// chromiumPath finds the browser: TIPLINE_CHROMIUM, else Debian's
// /usr/bin/chromium, else chromium on PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TIPLINE_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			unavailable(t, "TIPLINE_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	unavailable(t, "no Chromium: set TIPLINE_CHROMIUM, or install Debian's chromium package")
	return ""
}

// axeSource reads axe-core's script from AXE_CORE_JS.
func axeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("AXE_CORE_JS")
	if path == "" {
		if home, err := os.UserHomeDir(); err == nil {
			// Where .ci/run puts it, so a plain `go test` finds it after one CI run.
			path = filepath.Join(home, ".cache", "tipline-axe", "node_modules", "axe-core", "axe.min.js")
		}
	}
	src, err := os.ReadFile(path)
	if err != nil {
		unavailable(t, "no axe-core (AXE_CORE_JS=%q): %v", os.Getenv("AXE_CORE_JS"), err)
	}
	return string(src)
}

// artefactDir is where screenshots go: $TIPLINE_ARTEFACTS/screenshots, else
// .artefacts/screenshots at the top of the repository.
func artefactDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("TIPLINE_ARTEFACTS")
	if root == "" {
		root = filepath.Join("..", ".artefacts") // tests run in web/
	}
	dir, err := filepath.Abs(filepath.Join(root, "screenshots"))
	if err != nil {
		t.Fatalf("artefact directory: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artefact directory: %v", err)
	}
	return dir
}

// startBrowser starts one headless Chromium for the whole test. Each tab
// then gets a browser context of its own, so no cookie passes between runs.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	output := &lockedBuffer{} // the browser's own messages, shown if it fails to start
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.CombinedOutput(output),
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// chromedp gives the browser a fresh temporary user-data-dir and
		// removes it when the browser stops.
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	sctx, scancel := context.WithTimeout(ctx, time.Minute)
	defer scancel()
	// Start it with a context that has no deadline: the first run binds the
	// browser's life to its context. The timeout only bounds the wait.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("start chromium: %v\n%s", err, output)
		}
	case <-sctx.Done():
		t.Fatalf("start chromium: not up after a minute\n%s", output)
	}
	return ctx
}

// tab is one browser tab at a phone's size, in one language, with
// JavaScript on or off.
type tab struct {
	t      *testing.T
	ctx    context.Context
	base   string // the server's URL
	lang   string // "en" or "es"
	js     bool
	axe    string // axe-core's source
	shots  string // screenshot directory
	name   string // prefix of screenshot names, as "en-nojs"
	errors *consoleLog
}

// newTab opens a tab in a fresh browser context. Before any page loads it
// sets the phone viewport (390x844, mobile, touch), the language the
// browser asks for, and, for a no-JavaScript run, turns scripts off.
func newTab(t *testing.T, browser context.Context, srv *httptest.Server, lang string, js bool, axe, shots string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	mode := "nojs"
	if js {
		mode = "js"
	}
	b := &tab{t: t, ctx: ctx, base: srv.URL, lang: lang, js: js, axe: axe, shots: shots, name: lang + "-" + mode, errors: &consoleLog{}}
	// Open the tab with no deadline on its context, as for the browser.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	if err := chromedp.Listen(ctx, b.errors.record); err != nil {
		t.Fatalf("listen to the console: %v", err)
	}
	acceptLanguage := "en-US,en;q=0.9"
	if lang == "es" {
		acceptLanguage = "es-US,es;q=0.9"
	}
	b.do("set up the phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
				Headers: network.Headers{"Accept-Language": acceptLanguage},
			})
			return err
		}),
		b.scripts(js),
	)
	return b
}

// scripts turns the page's own JavaScript on or off. DevTools' own
// Runtime.evaluate works either way, but with scripts off no timer or
// animation frame runs, so axe-core, which waits on them, never finishes.
func (b *tab) scripts(on bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	})
}

// url is path on the server, with ?lang=es for a Spanish run.
func (b *tab) url(path string) string {
	if b.lang != "en" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "lang=" + b.lang
	}
	return b.base + path
}

// do runs steps within stepTimeout, failing with the page's text.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// run runs one action that returns a value, within stepTimeout.
func run[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fatalf("%s: %v", what, err)
	}
	return v
}

// eval evaluates a JavaScript expression in the page. It works with the
// page's scripts off: DevTools runs it, not the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	return run(b, "evaluate "+firstLine(expr), chromedp.Evaluate[T](expr))
}

// open loads path and requires the status want.
func (b *tab) open(path string, want int64) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.url(path)))
	if err != nil {
		b.fatalf("open %s: %v", path, err)
	}
	if resp.Status != want {
		b.fatalf("open %s: got status %d, want %d", path, resp.Status, want)
	}
}

// submit clicks the submit button of the form that holds field (a CSS
// selector), as a reporter's thumb would, waits for the next page, and
// requires the status want.
func (b *tab) submit(field string, want int64) {
	b.t.Helper()
	if got := b.post(field); got != want {
		b.fatalf("submit the form with %s: got status %d, want %d", field, got, want)
	}
}

// has tells whether the page has an element matching a CSS selector,
// without waiting for one.
func (b *tab) has(sel string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`document.querySelector(%s) !== null`, jsString(sel)))
}

// typeInto types text into the field named name, key by key.
func (b *tab) typeInto(name, text string) {
	b.t.Helper()
	sel := fmt.Sprintf(`[name=%q]:not([type="hidden"])`, name)
	b.do("type into "+name, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// choose picks value in the field named name: in a <select>, the option
// whose value or text is value; in a text input (an <input list>, say),
// value is typed.
func (b *tab) choose(name, value string) {
	b.t.Helper()
	sel := fmt.Sprintf(`[name=%q]:not([type="hidden"])`, name)
	tag := eval[string](b, fmt.Sprintf(`(document.querySelector(%s) || {tagName: ""}).tagName`, jsString(sel)))
	switch tag {
	case "SELECT":
		ok := eval[bool](b, fmt.Sprintf(`(() => {
			const s = document.querySelector(%s);
			const o = [...s.options].find(o => o.value === %[2]s || o.text.trim() === %[2]s);
			if (!o) return false;
			s.value = o.value;
			s.dispatchEvent(new Event('change', {bubbles: true}));
			return true;
		})()`, jsString(sel), jsString(value)))
		if !ok {
			b.fatalf("the %s list has no option %q", name, value)
		}
	case "":
		b.fatalf("the page has no field named %s", name)
	default:
		b.typeInto(name, value)
	}
}

// shot keeps a full-page screenshot as name.png, prefixed with the run.
func (b *tab) shot(page string) {
	b.t.Helper()
	png := run(b, "screenshot "+page, chromedp.FullScreenshot(100))
	path := filepath.Join(b.shots, b.name+"-"+page+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("keep screenshot: %v", err)
	}
}

// axeViolation is one failed axe-core rule.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	URL    string `json:"helpUrl"`
	Nodes  []struct {
		HTML    string `json:"html"`
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// checkAxe runs axe-core's WCAG 2.1 A and AA rules on the page as loaded,
// and fails on any serious or critical violation. axe needs timers, which
// do not run while the page's scripts are off, so scripts are turned on
// for the check alone: the document is the one loaded without them, and
// none of its own scripts runs, since they were never started.
func (b *tab) checkAxe(page string) {
	b.t.Helper()
	if !b.js {
		b.do("turn scripts on for axe", b.scripts(true))
		defer b.do("turn scripts off again", b.scripts(false))
	}
	if !eval[bool](b, `typeof window.axe === 'object'`) {
		b.do("inject axe-core", chromedp.Evaluate[chromedp.Void](b.axe))
	}
	raw := run(b, "run axe on "+page, chromedp.Evaluate[[]byte](
		`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(r => r.violations)`,
		chromedp.EvalAwaitPromise))
	var violations []axeViolation
	if err := json.Unmarshal(raw, &violations); err != nil {
		b.t.Fatalf("axe on %s: decode %s: %v", page, raw, err)
	}
	var bad []string
	for _, v := range violations {
		line := fmt.Sprintf("%s (%s): %s <%s>", v.ID, v.Impact, v.Help, v.URL)
		for _, n := range v.Nodes {
			line += "\n      " + n.HTML
			if n.Summary != "" {
				line += "\n        " + strings.ReplaceAll(n.Summary, "\n", "\n        ")
			}
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, line)
		} else {
			b.t.Logf("axe on %s %s, not failing the test: %s", b.name, page, line)
		}
	}
	if len(bad) > 0 {
		b.t.Errorf("axe on %s %s: %d serious or critical WCAG 2.1 AA violations:\n  %s", b.name, page, len(bad), strings.Join(bad, "\n  "))
	}
}

// pageInfo is what a test reads off a page in one call.
type pageInfo struct {
	Lang     string `json:"lang"`
	H1       string `json:"h1"`
	Text     string `json:"text"`
	URL      string `json:"url"`
	Overflow bool   `json:"overflow"` // wider than the screen: the reader must scroll sideways
}

func (b *tab) info() pageInfo {
	b.t.Helper()
	return eval[pageInfo](b, `({
		lang: document.documentElement.lang,
		h1: (document.querySelector('h1') || {innerText: ''}).innerText.trim(),
		text: document.body ? document.body.innerText : '',
		url: location.pathname,
		overflow: document.documentElement.scrollWidth > document.documentElement.clientWidth + 1,
	})`)
}

// fatalf fails with the page's address and text, to show what the browser
// had in front of it.
func (b *tab) fatalf(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + '\n' + (document.body ? document.body.innerText : '(no body)')`))
	if err != nil {
		text = "(could not read the page: " + err.Error() + ")"
	}
	if len(text) > 3000 {
		text = text[:3000] + "…"
	}
	b.t.Fatalf("%s %s\n--- the page ---\n%s\n---", b.name, msg, text)
}

// consoleLog keeps the errors a page reports: uncaught exceptions,
// console.error calls and browser log errors such as a CSP refusal.
type consoleLog struct {
	mu   sync.Mutex
	msgs []string
}

// record is a chromedp listener: it runs in the tab's event loop, so it
// only notes the event.
func (c *consoleLog) record(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "exception: " + d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		msg += fmt.Sprintf(" at %s:%d", d.URL, d.LineNumber+1)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level != cdplog.EntryLevelError || strings.Contains(ev.Entry.URL, "/favicon.ico") {
			// The browser asks for /favicon.ico by itself; no page names it.
			return
		}
		msg = "log: " + ev.Entry.Text + " " + ev.Entry.URL
	default:
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, msg)
}

func (c *consoleLog) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// catalogue translates English text into lang through web/locales: the
// entries of en.json that read text, and the entries under the same keys
// in lang.json. An English text can sit under several keys ("Make a
// report" is both a link and a heading), so every translation found is
// returned; none means the catalogue has no such entry.
func catalogue(t *testing.T, lang string) func(en string) []string {
	t.Helper()
	if lang == "en" {
		return func(en string) []string { return []string{en} }
	}
	read := func(l string) map[string]string {
		raw, err := os.ReadFile(filepath.Join("locales", l+".json"))
		if err != nil {
			return nil
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("locales/%s.json: %v", l, err)
		}
		flat := map[string]string{}
		flatten("", v, flat)
		return flat
	}
	en, other := read("en"), read(lang)
	return func(text string) []string {
		var out []string
		for k, v := range en {
			if tr := strings.TrimSpace(other[k]); strings.TrimSpace(v) == text && tr != "" && !slices.Contains(out, tr) {
				out = append(out, tr)
			}
		}
		slices.Sort(out)
		return out
	}
}

// flatten turns any JSON catalogue shape into path → text.
func flatten(prefix string, v any, out map[string]string) {
	switch v := v.(type) {
	case string:
		out[prefix] = v
	case map[string]any:
		for k, x := range v {
			flatten(prefix+"/"+k, x, out)
		}
	case []any:
		for i, x := range v {
			flatten(fmt.Sprintf("%s/%d", prefix, i), x, out)
		}
	}
}

// gpsJPEG writes a small JPEG photo with an EXIF APP1 segment naming a
// camera and carrying GPS coordinates (40°26'46"N 79°58'56"W), as a phone
// photo would, and returns its path.
func gpsJPEG(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for y := range 64 {
		for x := range 96 {
			img.Set(x, y, color.RGBA{uint8(x * 2), uint8(y * 3), 150, 255})
		}
	}
	var plain bytes.Buffer
	if err := jpeg.Encode(&plain, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	exif := exifGPS()
	var out bytes.Buffer
	out.Write(plain.Bytes()[:2]) // SOI
	out.Write([]byte{0xFF, 0xE1})
	_ = binary.Write(&out, binary.BigEndian, uint16(2+len(exif)))
	out.Write(exif)
	out.Write(plain.Bytes()[2:])
	path := filepath.Join(t.TempDir(), "IMG_0042.jpg")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The checks on stored images must catch this very file.
	if _, err := jpeg.Decode(bytes.NewReader(out.Bytes())); err != nil {
		t.Fatalf("the test JPEG does not decode: %v", err)
	}
	if !slices.Contains(jpegSegments(out.Bytes()), 0xE1) || !bytes.Contains(out.Bytes(), gpsLatitude) ||
		!bytes.Contains(out.Bytes(), []byte("Exif")) || !bytes.Contains(out.Bytes(), []byte(exifCamera)) {
		t.Fatalf("the test JPEG lacks the metadata it is meant to carry")
	}
	return path
}

// Marks of the metadata in gpsJPEG, which no stored image may hold.
var (
	exifCamera = "tipline-test-camera"
	// GPSLatitude 40/1 26/1 46/1 as TIFF big-endian RATIONALs.
	gpsLatitude = rationals(40, 1, 26, 1, 46, 1)
)

// exifGPS builds the APP1 payload "Exif\0\0" + a big-endian TIFF with IFD0
// (Make, GPSInfo pointer) and a GPS IFD.
func exifGPS() []byte {
	const (
		typeByte     = 1
		typeASCII    = 2
		typeLong     = 4
		typeRational = 5
	)
	gps := []ifdEntry{
		{0x0000, typeByte, 4, []byte{2, 2, 0, 0}},                 // GPSVersionID
		{0x0001, typeASCII, 2, []byte("N\x00")},                   // GPSLatitudeRef
		{0x0002, typeRational, 3, gpsLatitude},                    // GPSLatitude
		{0x0003, typeASCII, 2, []byte("W\x00")},                   // GPSLongitudeRef
		{0x0004, typeRational, 3, rationals(79, 1, 58, 1, 56, 1)}, // GPSLongitude
		{0x0012, typeASCII, 7, []byte("WGS-84\x00")},              // GPSMapDatum
	}
	camera := append([]byte(exifCamera), 0)
	ifd0 := func(gpsAt uint32) []byte {
		ptr := binary.BigEndian.AppendUint32(nil, gpsAt)
		return encodeIFD(8, []ifdEntry{
			{0x010F, typeASCII, uint32(len(camera)), camera}, // Make
			{0x8825, typeLong, 1, ptr},                       // GPSInfo
		})
	}
	gpsAt := uint32(8 + len(ifd0(0)))
	tiff := []byte("MM\x00\x2A\x00\x00\x00\x08")
	tiff = append(tiff, ifd0(gpsAt)...)
	tiff = append(tiff, encodeIFD(gpsAt, gps)...)
	return append([]byte("Exif\x00\x00"), tiff...)
}

type ifdEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

// encodeIFD encodes one IFD that starts at offset at in the TIFF; values
// longer than four bytes follow it.
func encodeIFD(at uint32, entries []ifdEntry) []byte {
	be := binary.BigEndian
	head := be.AppendUint16(nil, uint16(len(entries)))
	var tail []byte
	extra := at + uint32(2+12*len(entries)+4)
	for _, e := range entries {
		head = be.AppendUint16(head, e.tag)
		head = be.AppendUint16(head, e.typ)
		head = be.AppendUint32(head, e.count)
		if len(e.data) <= 4 {
			head = append(head, append(slices.Clone(e.data), make([]byte, 4-len(e.data))...)...)
			continue
		}
		head = be.AppendUint32(head, extra+uint32(len(tail)))
		tail = append(tail, e.data...)
		if len(tail)%2 == 1 {
			tail = append(tail, 0)
		}
	}
	head = be.AppendUint32(head, 0) // no next IFD
	return append(head, tail...)
}

func rationals(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.BigEndian.AppendUint32(b, x)
	}
	return b
}

// jpegSegments lists the markers of a JPEG's segments before its image data.
func jpegSegments(b []byte) []byte {
	var markers []byte
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		m := b[i+1]
		markers = append(markers, m)
		if m == 0xDA { // start of scan: image data follows
			break
		}
		i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
	}
	return markers
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}
