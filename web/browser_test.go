package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/web"
)

// TestBrowser drives the reporter's pages in headless Chromium at a phone's
// size: home, the report form with an image, the receipt, the follow-up
// and a reply, with JavaScript off, in English and in Spanish; then the
// receipt once more with JavaScript on. Every page is checked with
// axe-core and kept as a screenshot in .artefacts/screenshots.
//
// It needs Chromium and axe-core; `bash .ci/run` installs both. Without
// them it is skipped, except in CI, where it fails.
func TestBrowser(t *testing.T) {
	chromiumPath(t)
	axe := axeSource(t)
	shots := artefactDir(t)

	var in *intake.Intake
	f := newFixture(t, func(c *web.Config, _ *fixture) { in = c.Intake })
	srv := httptest.NewServer(f.e)
	t.Cleanup(srv.Close)
	browser := startBrowser(t) // stopped before the server, as cleanups run last first
	photo := gpsJPEG(t)
	start := time.Now()

	runs := []struct {
		lang   string
		danger bool
		report reportInput
	}{
		{"en", true, reportInput{
			body:     "A boy in my class said he would bring his dad's gun on Friday and showed a photo of it.",
			location: "Room 101, North High",
			when:     "Friday before lunch",
			subject:  "a 10th grader in my math class",
			contact:  "text me at 555-0100 after school",
			reply:    "He posted the photo again last night.",
		}},
		{"es", false, reportInput{
			body:     "Un chico de mi clase dijo que traería la pistola de su papá el viernes. Ñandú, acción, ¿por qué?",
			location: "Aula 101, junto al gimnasio",
			when:     "el viernes antes del almuerzo",
			subject:  "un alumno de décimo grado",
			contact:  "mándame un mensaje al 555-0100",
			reply:    "Volvió a publicar la foto anoche.",
		}},
	}
	for _, r := range runs {
		t.Run(r.lang+"-nojs", func(t *testing.T) {
			b := newTab(t, browser, srv, r.lang, false, axe, shots)
			tip := reportFlow(t, b, r.danger, r.report, photo)
			checkStored(t, f, in, tip, r.danger, r.report)
		})
	}

	t.Run("en-js-receipt", func(t *testing.T) {
		b := newTab(t, browser, srv, "en", true, axe, shots)
		b.open("/report", http.StatusOK)
		b.choose("org", "South Middle School")
		b.typeInto("body", "Someone keeps writing threats on the bathroom wall.")
		b.do("answer the danger question", chromedp.Click(chromedp.CSS(`input[name="danger"][value="no"]`)))
		b.submit(`textarea[name="body"]`, http.StatusCreated)
		b.expectPage("receipt", headingReceipt)
		checkTokenOnOneLine(t, b)

		// static/receipt.js adds Copy and Print buttons; wait for it briefly.
		found := false
		for range 30 {
			if eval[bool](b, `[...document.querySelectorAll('button, [role="button"]')].some(e => /copy|print/i.test(e.innerText))`) {
				found = true
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !found {
			b.fatalf("with JavaScript on, the receipt shows no Copy or Print button")
		}
		b.shot("receipt")
		b.checkAxe("receipt")
		require.Empty(t, b.errors.all(), "the receipt with JavaScript on logged errors")
	})

	t.Logf("browser flows took %s; screenshots in %s", time.Since(start).Round(time.Millisecond), shots)
}

// reportInput is what the reporter types.
type reportInput struct {
	body, location, when, subject, contact, reply string
}

// reported is what a flow leaves behind for checkStored.
type reported struct {
	token      string // as the receipt showed it, grouped
	hadContact bool
	hadImages  bool
}

// headings are the English headings of the pages; a Spanish run expects
// their entries in web/locales/es.json.
const (
	headingHome     = "Tell someone safely"
	headingReport   = "Make a report"
	headingReceipt  = "Your report was received"
	headingFollowup = "Check on a report"
	headingStatus   = "Your report"
	statusReceived  = "Received"
)

// tokenChars keeps the symbols of a token as shown, whatever the grouping.
var tokenChars = regexp.MustCompile(`[^0-9A-Z]`)

// reportFlow files a report through the pages, as a reporter on a phone
// with JavaScript off would, and checks each page on the way.
func reportFlow(t *testing.T, b *tab, danger bool, in reportInput, photo string) reported {
	t.Helper()
	var out reported

	// 1. Home.
	b.open("/", http.StatusOK)
	b.expectPage("home", headingHome)
	b.shot("home")
	b.checkAxe("home")

	// 2. The report form, filled in by field name.
	b.open("/report", http.StatusOK)
	b.expectPage("report", headingReport)
	b.choose("org", "North High School")
	b.choose("category", "weapon")
	b.typeInto("body", in.body)
	b.typeInto("location", in.location)
	b.typeInto("when", in.when)
	b.typeInto("subject", in.subject)
	answer := "no"
	if danger {
		answer = "yes"
	}
	b.do("answer the danger question", chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="danger"][value=%q]`, answer))))
	if b.has(`[name="contact"]:not([type="hidden"])`) {
		b.typeInto("contact", in.contact)
		out.hadContact = true
	} else {
		t.Errorf("the report form has no contact field")
	}
	if b.has(`input[type="file"][name="images"]`) {
		b.do("attach a photo", chromedp.SetUploadFiles(chromedp.CSS(`input[type="file"][name="images"]`), []string{photo}))
		out.hadImages = true
	}
	b.shot("report")
	b.checkAxe("report")
	b.submit(`textarea[name="body"]`, http.StatusCreated)

	// 3. The receipt.
	b.expectPage("receipt", headingReceipt)
	out.token = checkTokenOnOneLine(t, b)
	if b.has(`button[type="button"]`) {
		// Only a script makes such buttons (receipt.js's Copy and Print).
		b.fatalf("the receipt shows script-made buttons: JavaScript is not off")
	}
	if danger {
		// Emergency guidance comes first: a frightened reader sees "call
		// 911" before anything else the page asks of them.
		order := eval[string](b, `(() => {
			const token = document.querySelector('.token');
			const call = [...document.querySelectorAll('main a[href^="tel:911"]')]
				.find(a => a.getBoundingClientRect().height > 0);
			if (!call) return 'missing: no visible 911 link in main';
			return (token.compareDocumentPosition(call) & Node.DOCUMENT_POSITION_PRECEDING) ? 'before' : 'after';
		})()`)
		if order != "before" {
			b.fatalf("danger=yes: emergency guidance (a visible 911 link in main) is %s; want it before the token", order)
		}
	}
	b.shot("receipt")
	b.checkAxe("receipt")

	// 4. The follow-up, with the token typed carelessly.
	b.open("/followup", http.StatusOK)
	b.expectPage("followup", headingFollowup)
	b.shot("followup")
	b.checkAxe("followup")
	typed := strings.ToLower(strings.ReplaceAll(out.token, "-", " "))
	tokenField := `input[name="token"]:not([type="hidden"])`
	b.typeInto("token", typed)
	if got := b.post(tokenField); got != http.StatusOK {
		// One more try after a pause, as a reporter would.
		t.Logf("follow-up with %q: got status %d; trying again", typed, got)
		time.Sleep(time.Second)
		b.open("/followup", http.StatusOK)
		b.typeInto("token", typed)
		if got := b.post(tokenField); got != http.StatusOK {
			b.fatalf("follow-up with %q: got status %d, want 200", typed, got)
		}
	}
	b.expectPage("status", headingStatus)
	b.expectText("the status", statusReceived)
	b.shot("status")
	b.checkAxe("status")

	b.typeInto("body", in.reply)
	b.submit(`textarea[name="body"]`, http.StatusOK)
	b.expectPage("reply", headingStatus)
	if !strings.Contains(b.info().Text, in.reply) {
		b.fatalf("the reply %q is not shown after sending it", in.reply)
	}
	b.shot("reply")
	b.checkAxe("reply")

	require.Empty(t, b.errors.all(), "%s: the pages logged errors", b.name)
	return out
}

// checkTokenOnOneLine reads the receipt's token and requires it to sit on
// one line, whole on the phone's screen. It returns the token.
func checkTokenOnOneLine(t *testing.T, b *tab) string {
	t.Helper()
	type box struct {
		Text       string  `json:"text"`
		Height     float64 `json:"height"`
		LineHeight float64 `json:"lineHeight"`
		Lines      int     `json:"lines"`
		Left       float64 `json:"left"`
		Right      float64 `json:"right"`
		Spills     bool    `json:"spills"`
		Viewport   float64 `json:"viewport"`
	}
	if !b.has(".token") {
		b.fatalf("the receipt has no element with class token")
	}
	// The box's content height against its line height, the lines its text
	// is laid out on, and where the glyphs themselves are: a nowrap token
	// can sit in a narrow box and spill out of it, off the screen.
	got := eval[box](b, `(() => {
		const el = document.querySelector('.token');
		const cs = getComputedStyle(el);
		let lh = parseFloat(cs.lineHeight);
		if (isNaN(lh)) lh = parseFloat(cs.fontSize) * 1.2; // "normal"
		const r = el.getBoundingClientRect();
		const inner = r.height - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom)
			- parseFloat(cs.borderTopWidth) - parseFloat(cs.borderBottomWidth);
		const range = document.createRange();
		range.selectNodeContents(el);
		const rects = [...range.getClientRects()].filter(x => x.width > 0);
		const tops = [];
		for (const x of rects) if (!tops.some(t => Math.abs(t - x.top) < lh / 2)) tops.push(x.top);
		return {text: el.innerText, height: inner, lineHeight: lh, lines: tops.length,
			left: Math.min(...rects.map(x => x.left)), right: Math.max(...rects.map(x => x.right)),
			spills: el.scrollWidth > el.clientWidth + 1,
			viewport: document.documentElement.clientWidth};
	})()`)
	symbols := tokenChars.ReplaceAllString(strings.ToUpper(got.Text), "")
	if len(symbols) != 16 {
		b.fatalf("the token %q has %d symbols, want 16", got.Text, len(symbols))
	}
	if got.Height >= 2*got.LineHeight || got.Lines != 1 {
		b.fatalf("the token %q wraps: %d lines, its box %.0fpx high for a %.0fpx line", got.Text, got.Lines, got.Height, got.LineHeight)
	}
	if got.Left < -1 || got.Right > got.Viewport+1 || got.Spills {
		b.fatalf("the token %q does not fit: its text spans %.0f to %.0f px on a %.0fpx screen (spills out of its box: %v)",
			got.Text, got.Left, got.Right, got.Viewport, got.Spills)
	}
	return symbols[0:4] + "-" + symbols[4:8] + "-" + symbols[8:12] + "-" + symbols[12:16]
}

// checkStored looks up the report the browser filed: every field as typed,
// the reply, and any photo stripped of its metadata.
func checkStored(t *testing.T, f *fixture, in *intake.Intake, r reported, danger bool, typed reportInput) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fu, err := in.Followup(ctx, r.token)
	require.NoError(t, err, "the token %s from the receipt finds no report", r.token)
	tip, err := f.store.Tip(ctx, fu.TipID)
	require.NoError(t, err)
	require.Equal(t, intake.ChannelWeb, tip.Channel)
	require.Equal(t, "north-high", tip.Org, "the org chosen by its name is stored by its ID")
	require.Equal(t, "weapon", tip.Category)
	require.Equal(t, danger, tip.Danger)
	require.Equal(t, typed.body, tip.Body)
	require.Equal(t, typed.location, tip.Location)
	require.Equal(t, typed.when, tip.When)
	require.Equal(t, typed.subject, tip.Subject)
	if r.hadContact {
		require.Equal(t, typed.contact, tip.Contact)
	}
	msgs, err := f.store.Messages(ctx, fu.TipID)
	require.NoError(t, err)
	require.Len(t, msgs, 1, "one reply sent, got %v", msgs)
	require.Equal(t, intake.FromReporter, msgs[0].From)
	require.Equal(t, typed.reply, msgs[0].Body)

	// "An uploaded JPEG carrying EXIF GPS data comes back to the reviewer
	// with none" (issue 3).
	if !r.hadImages {
		t.Errorf("the report form has no images field: the photo upload is unchecked")
	} else {
		imgs, err := f.store.Images(ctx, fu.TipID)
		require.NoError(t, err)
		require.Len(t, imgs, 1, "one photo uploaded")
		img := imgs[0].Data
		require.Equal(t, "image/jpeg", imgs[0].ContentType)
		require.True(t, bytes.HasPrefix(img, []byte{0xFF, 0xD8, 0xFF}), "the stored photo is not a JPEG: starts %x", img[:min(8, len(img))])
		_, err = jpeg.Decode(bytes.NewReader(img))
		require.NoError(t, err, "the stored photo does not decode")
		require.NotContains(t, jpegSegments(img), byte(0xE1), "the stored photo keeps an APP1 (EXIF or XMP) segment")
		require.False(t, bytes.Contains(img, []byte("Exif")), "the stored photo holds an Exif marker")
		require.False(t, bytes.Contains(img, gpsLatitude), "the stored photo holds the GPS latitude")
		require.False(t, bytes.Contains(img, []byte(exifCamera)), "the stored photo holds the camera's name")
		t.Logf("the stored photo: %d-byte JPEG, segments %x, no EXIF, GPS or camera name", len(img), jpegSegments(img))
	}
	f.noLeaks(t, typed.body, typed.location, typed.subject, typed.contact, typed.reply, r.token, strings.ReplaceAll(r.token, "-", ""))
}

// expectPage requires the page to be in the tab's language, with heading
// en or its translation, and no wider than the phone's screen.
func (b *tab) expectPage(page, en string) {
	b.t.Helper()
	info := b.info()
	if !strings.HasPrefix(info.Lang, b.lang) {
		b.fatalf("%s: <html lang=%q>, want %q", page, info.Lang, b.lang)
	}
	want := catalogue(b.t, b.lang)(en)
	switch {
	case len(want) > 0 && !slices.Contains(want, info.H1):
		b.fatalf("%s: heading %q, want %q", page, info.H1, strings.Join(want, `" or "`))
	case len(want) == 0 && (info.H1 == "" || info.H1 == en):
		b.fatalf("%s: heading %q, want it in %s (no entry for %q in web/locales)", page, info.H1, b.lang, en)
	case len(want) == 0:
		b.t.Logf("%s: no catalogue entry for %q; heading %q is not English, taken as translated", page, en, info.H1)
	}
	if info.Overflow {
		b.t.Errorf("%s %s: the page is wider than the 390px screen: the reader must scroll sideways", b.name, page)
	}
}

// expectText requires the page to show en, or its translation.
func (b *tab) expectText(what, en string) {
	b.t.Helper()
	want := catalogue(b.t, b.lang)(en)
	if len(want) == 0 {
		b.t.Logf("%s: no catalogue entry for %q in %s: not checked", what, en, b.lang)
		return
	}
	text := b.info().Text
	for _, w := range want {
		if strings.Contains(text, w) {
			return
		}
	}
	b.fatalf("%s: the page does not show %q", what, strings.Join(want, `" or "`))
}

// post clicks the submit button of the form holding field and returns the
// status of the page that comes back.
func (b *tab) post(field string) int64 {
	b.t.Helper()
	button := fmt.Sprintf(`form:has(%[1]s) button[type="submit"], form:has(%[1]s) input[type="submit"], form:has(%[1]s) button:not([type])`, field)
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		b.fatalf("submit the form with %s: %v", field, err)
	}
	return resp.Status
}
