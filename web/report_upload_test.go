package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/web"
)

// filePart is one file of a multipart post.
type filePart struct {
	filename, contentType string
	data                  []byte
}

// multipartBody encodes a form as a browser sends the report form: the
// text fields in order, then the files of the images input (an empty part
// for a file input left empty).
func multipartBody(t testing.TB, fields [][2]string, files []filePart) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, kv := range fields {
		require.NoError(t, w.WriteField(kv[0], kv[1]))
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="images"; filename=%q`, f.filename))
		h.Set("Content-Type", f.contentType)
		p, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = p.Write(f.data)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return &buf, w.FormDataContentType()
}

// postMultipart sends the report form as multipart/form-data.
func (b *browser) postMultipart(t testing.TB, fields [][2]string, files []filePart) *httptest.ResponseRecorder {
	t.Helper()
	body, ct := multipartBody(t, fields, files)
	req := httptest.NewRequest(http.MethodPost, "/report", body)
	req.Header.Set("Content-Type", ct)
	b.send(req)
	rec := b.f.serve(req)
	b.keep(rec)
	return rec
}

// reportFields are a filled-in report form, as a browser orders them.
func reportFields(csrf string, kv ...string) [][2]string {
	fields := [][2]string{{"_csrf", csrf}, {"lang", "en"}, {"org", "north-high"}, {"body", "a report"}, {"danger", "no"}}
	for i := 0; i+1 < len(kv); i += 2 {
		j := slices.IndexFunc(fields, func(f [2]string) bool { return f[0] == kv[i] })
		if j < 0 {
			fields = append(fields, [2]string{kv[i], kv[i+1]})
		} else {
			fields[j][1] = kv[i+1]
		}
	}
	return fields
}

// pngImage is a small real PNG, as a screenshot would be.
func pngImage(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for y := range 16 {
		for x := range 24 {
			img.Set(x, y, color.RGBA{uint8(x * 10), uint8(y * 15), 90, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// storedTip loads the tip a token belongs to, as a reviewer would see it.
func (f *fixture) storedTip(t *testing.T, token string) *intake.Tip {
	t.Helper()
	fu, err := f.in.Followup(context.Background(), token)
	require.NoError(t, err)
	tip, err := f.store.Tip(context.Background(), fu.TipID)
	require.NoError(t, err)
	return tip
}

// intakeChecksImages tells whether intake refuses a picture that is not an
// image. The image checks land in intake separately from this form; until
// they do, the assertions that need them are skipped, loudly.
func intakeChecksImages(t *testing.T, f *fixture) bool {
	t.Helper()
	_, err := f.in.Submit(context.Background(), intake.Report{
		Channel: intake.ChannelWeb, Org: "north-high", Body: "probe", Images: [][]byte{[]byte("not an image")},
	})
	var fe *intake.FieldError
	return errors.As(err, &fe) && fe.Code == intake.ErrImageType
}

func TestReportWithImageAndContact(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	contact := "text me at 555-0100 after school"
	rec := b.postMultipart(t, reportFields(csrf,
		"org", "  LINCOLN   high school ", "category", "weapon",
		"body", "He showed a gun in a snapchat story.", "contact", contact),
		[]filePart{{"screenshot.png", "image/png", pngImage(t)}})
	require.Equal(t, http.StatusCreated, rec.Code, "got %d: %s", rec.Code, rec.Body)
	page := rec.Body.String()
	require.Contains(t, page, "Lincoln High School", "the typed name was matched to the organisation")
	token := receiptToken.FindStringSubmatch(page)[1]

	tip := f.storedTip(t, token)
	require.Equal(t, "lincoln-high", tip.Org, "the organisation is stored by its ID")
	require.Equal(t, contact, tip.Contact, "the contact details are stored")
	require.Equal(t, "weapon", tip.Category)
	f.noLeaks(t, contact, token)
}

func TestReportOrgNamesAndUnknownOrgs(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	for typed, want := range map[string]string{
		"lincoln high school":     "lincoln-high",
		"Lincoln High School":     "lincoln-high",
		"\tLincoln  High\nSchool": "lincoln-high",
		"NORTH-HIGH":              "north-high",
		"south-middle":            "south-middle",
		// Never refused: intake keeps it and triage sends it to the default team.
		"Lincoln Elementary": "Lincoln Elementary",
	} {
		rec := b.postMultipart(t, reportFields(csrf, "org", typed), nil)
		require.Equal(t, http.StatusCreated, rec.Code, "org %q: got %d", typed, rec.Code)
		token := receiptToken.FindStringSubmatch(rec.Body.String())[1]
		require.Equal(t, want, f.storedTip(t, token).Org, "org typed as %q", typed)
	}
}

func TestReportEmptyFileInputIsSkipped(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	// What a browser sends for a file input left empty.
	rec := b.postMultipart(t, reportFields(csrf), []filePart{{"", "application/octet-stream", nil}})
	require.Equal(t, http.StatusCreated, rec.Code, "got %d: %s", rec.Code, rec.Body)
}

func TestReportImageThatIsNotAnImage(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	where := "behind the <gym>"
	rec := b.postMultipart(t, reportFields(csrf, "body", "see the picture", "location", where, "contact", "me@example.org"),
		[]filePart{{"photo.png", "image/png", []byte("this is a text file with a .png name")}})
	if !intakeChecksImages(t, f) {
		// LEAD: this must not skip once intake's image checks are merged.
		t.Skipf("intake does not check image content yet (ErrImageType); got %d. Run again after the intake image work lands.", rec.Code)
	}
	require.Equal(t, http.StatusBadRequest, rec.Code, "got %d: %s", rec.Code, rec.Body)
	page := rec.Body.String()
	require.Contains(t, page, `href="#f-images"`, "the error summary leads to the pictures")
	require.Contains(t, page, `id="f-images-error"`)
	require.Contains(t, page, "Only pictures can be sent")
	require.Contains(t, page, "choose your pictures again")
	require.Contains(t, page, `value="behind the &lt;gym&gt;"`, "the text is kept")
	require.Contains(t, page, `value="me@example.org"`)
	require.Equal(t, http.StatusCreated, b.postMultipart(t, reportFields(csrf), []filePart{{"a.png", "image/png", pngImage(t)}}).Code)

	// In Spanish, from the error's code.
	rec = b.postMultipart(t, reportFields(csrf, "lang", "es"), []filePart{{"photo.png", "image/png", []byte("text")}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), "Solo se pueden enviar imágenes")
	require.Contains(t, rec.Body.String(), "vuelve a elegir tus imágenes")

	// More than intake takes: its own code, its own words.
	img := pngImage(t)
	var four []filePart
	for i := range intake.MaxImages + 1 {
		four = append(four, filePart{fmt.Sprintf("%d.png", i), "image/png", img})
	}
	rec = b.postMultipart(t, reportFields(csrf), four)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), "You can send up to 3 pictures.")

	// Over the size a picture may have: refused by intake, not cut short.
	big := append(pngImage(t), bytes.Repeat([]byte{0}, intake.MaxImageBytes)...)
	rec = b.postMultipart(t, reportFields(csrf, "body", "kept"), []filePart{{"big.png", "image/png", big}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), `href="#f-images"`)
	require.Contains(t, rec.Body.String(), "kept</textarea>")
}

// TestReportPicturesTooBigTogether: a post over the body limit comes back
// with every text field, a 413, and words that say what to do.
func TestReportPicturesTooBigTogether(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	big := bytes.Repeat([]byte{0xff}, web.ReportBodyLimit/3+1)
	body := "He said he would do it at the assembly."
	rec := b.postMultipart(t, reportFields(csrf, "body", body, "subject", "Sam", "contact", "555-0100"),
		[]filePart{{"1.jpg", "image/jpeg", big}, {"2.jpg", "image/jpeg", big}, {"3.jpg", "image/jpeg", big}})
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	page := rec.Body.String()
	require.Contains(t, page, "too big to send together")
	require.Contains(t, page, "NOT sent")
	require.Contains(t, page, body)
	require.Contains(t, page, `value="Sam"`)
	require.Contains(t, page, `value="555-0100"`)
	require.Contains(t, page, "choose your pictures again")
	require.Equal(t, 0, f.pendingTasks(t), "nothing was filed")
}

func TestReportFormTextTooLong(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	rec := b.postMultipart(t, reportFields(csrf, "body", strings.Repeat("a", web.FormTextLimit+1)), nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Contains(t, rec.Body.String(), "too long")
}

func TestReportMalformedMultipart(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		contentType, body string
		status            int
	}{
		{"multipart/form-data", "--abc\r\nnonsense", http.StatusBadRequest},                                                                   // no boundary
		{"multipart/form-data; boundary=abc", "--abc\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\ncut off", http.StatusBadRequest}, // ends mid-part
		{"multipart/form-data; boundary=xyz", "--abc\r\nnonsense", http.StatusForbidden},                                                      // no parts: no CSRF token
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodPost, "/report", strings.NewReader(tt.body))
		req.Header.Set("Content-Type", tt.contentType)
		rec := f.serve(req)
		require.Equal(t, tt.status, rec.Code, "content type %q, body %q", tt.contentType, tt.body)
		require.Contains(t, rec.Header().Get("Content-Type"), "text/html")
	}
}

// TestReloadDoesNotFileTwiceMultipart: the once guard holds for the form
// as browsers now send it.
func TestReloadDoesNotFileTwiceMultipart(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	rec, csrf := b.get(t, "/report")
	once := onceFieldPattern.FindStringSubmatch(rec.Body.String())[1]
	fields := reportFields(csrf, "once", once, "body", "a knife in his bag")
	require.Equal(t, http.StatusCreated, b.postMultipart(t, fields, nil).Code)
	again := b.postMultipart(t, fields, nil)
	require.Equal(t, http.StatusConflict, again.Code)
	require.Contains(t, again.Body.String(), "This report was already sent")
	require.Equal(t, 1, f.pendingTasks(t))
}

func TestReadMultipart(t *testing.T) {
	img := pngImage(t)
	huge := bytes.Repeat([]byte{1}, intake.MaxImageBytes+5000)
	body, ct := multipartBody(t,
		[][2]string{{"_csrf", "c"}, {"body", "text"}, {"body", "a second body is ignored"}, {"name", "not a field of the form"}},
		[]filePart{{"", "application/octet-stream", nil}, {"a.png", "image/png", img}, {"b.png", "image/png", huge},
			{"c.png", "image/png", img}, {"d.png", "image/png", img}, {"e.png", "image/png", img}})
	_, params, _ := strings.Cut(ct, "boundary=")
	form, up, err := web.ReadMultipart(body.Bytes(), params)
	require.NoError(t, err)
	require.Equal(t, url.Values{"_csrf": {"c"}, "body": {"text"}}, form)
	require.Equal(t, 5, up.Sent, "the empty part is skipped; every other picture is counted")
	require.Len(t, up.Images, intake.MaxImages+1, "one more than allowed is kept, for intake to refuse")
	require.Equal(t, img, up.Images[0])
	require.Len(t, up.Images[1], intake.MaxImageBytes+1, "a huge picture is read only as far as intake needs")
	require.False(t, up.TooLarge)

	_, _, err = web.ReadMultipart(body.Bytes(), "")
	require.Error(t, err, "no boundary")
	_, _, err = web.ReadMultipart([]byte("--b\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\ncut off"), "b")
	require.Error(t, err, "a body that ends inside a part")
	form, _, err = web.ReadMultipart([]byte("garbage"), "b")
	require.NoError(t, err, "a body without a single boundary is a form without fields")
	require.Empty(t, form)
}

// FuzzReadMultipart: no body, however malformed, panics the reader, and
// what it keeps stays within the limits.
func FuzzReadMultipart(f *testing.F) {
	body, ct := multipartBody(f, [][2]string{{"body", "x"}, {"org", "y"}}, []filePart{{"a.png", "image/png", []byte("png")}})
	_, boundary, _ := strings.Cut(ct, "boundary=")
	f.Add(body.Bytes(), boundary)
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"images\"\r\n\r\nxx\r\n--b--\r\n"), "b")
	f.Add([]byte(""), "b")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		form, up, err := web.ReadMultipart(body, boundary)
		if err != nil {
			return
		}
		size := 0
		for _, vs := range form {
			for _, v := range vs {
				size += len(v)
			}
		}
		if size > web.FormTextLimit {
			t.Fatalf("kept %d bytes of text, more than the limit", size)
		}
		if len(up.Images) > intake.MaxImages+1 {
			t.Fatalf("kept %d pictures", len(up.Images))
		}
	})
}
