package web

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// formTextLimit bounds the text of a form post. A form percent-encodes
// every byte outside ASCII three times over, so a full report in Greek or
// emoji needs far more than its 12,000 characters: this fits it.
const formTextLimit = 256 << 10

// reportBodyLimit bounds a report post with pictures. Screenshots are the
// commonest evidence a reporter has, so the form takes intake.MaxImages
// pictures of up to intake.MaxImageBytes each; the limit fits exactly that,
// with the text and the multipart framing around it, and no more, so that
// no one can make the site read (or hold) more than a report could use.
const reportBodyLimit = intake.MaxImages*intake.MaxImageBytes + formTextLimit + 64<<10

// reportDrainLimit is how much of a post over reportBodyLimit is still read,
// and thrown away, before answering. A browser still sending when the
// answer comes tends to show "connection reset" instead of the answer; read
// to the end, a reporter whose three photos were too big together gets
// their text back and a message that says so. Beyond this, the connection
// is cut.
const reportDrainLimit = 2 * reportBodyLimit

// maxFormParts bounds the parts of a multipart post: the form has a dozen
// fields and a few pictures.
const maxFormParts = 100

// imagesField is the form's file input.
const imagesField = "images"

// reportField tells whether name is one of the report form's text fields:
// the only ones kept from a multipart post.
func reportField(name string) bool {
	switch name {
	case csrfField, onceField, langField, "org", "category", "body", "location", "when", "subject", "contact", "danger":
		return true
	}
	return false
}

// upload is what readReport found in a report post besides its text.
type upload struct {
	images [][]byte // each at most intake.MaxImageBytes+1 bytes, at most intake.MaxImages+1 of them
	sent   int      // pictures chosen, counted even when not kept
	// tooLarge: the post went over reportBodyLimit. The text fields, which
	// come before the pictures in the form, were read; the pictures were not.
	tooLarge bool
}

// uploadContext is where readReport leaves the upload.
const uploadContext = "upload"

// uploadOf is the upload readReport found; an empty one if it did not run.
func uploadOf(c echo.Context) *upload {
	if u, ok := c.Get(uploadContext).(*upload); ok {
		return u
	}
	return &upload{}
}

// errBodyTooLarge is a report post going over reportBodyLimit.
var errBodyTooLarge = errors.New("web: report body over the limit")

// capReader reads at most left bytes of r, then fails with errBodyTooLarge.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// readReport is middleware that reads a report post before the CSRF check
// and the handler see it. A multipart post (the form, which can carry
// pictures) is read part by part: text fields into the request's form, so
// c.FormValue finds them without parsing again, and pictures into memory,
// each read only up to intake.MaxImageBytes+1 bytes so that a huge one is
// never read whole, and never written to disk as net/http's own parser
// would. Empty file parts, which browsers send for a file input left
// empty, are skipped. Whether the pictures are images, and how many may
// come, is intake's to say, in its own words.
func (h *handler) readReport(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		mt, params, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
		if mt != echo.MIMEMultipartForm {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, formTextLimit)
			if err := req.ParseForm(); err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return echo.ErrStatusRequestEntityTooLarge
				}
				return echo.ErrBadRequest
			}
			return next(c)
		}
		if req.ContentLength > reportDrainLimit {
			return echo.ErrStatusRequestEntityTooLarge
		}
		form, up, err := readMultipart(req.Body, params["boundary"])
		switch {
		case errors.Is(err, errTextTooLarge):
			return echo.ErrStatusRequestEntityTooLarge
		case err != nil:
			return echo.ErrBadRequest
		}
		if up.tooLarge {
			_, _ = io.CopyN(io.Discard, req.Body, reportDrainLimit-reportBodyLimit)
		}
		req.PostForm = form
		req.Form = url.Values{}
		for k, v := range form {
			req.Form[k] = v
		}
		for k, v := range req.URL.Query() {
			req.Form[k] = append(req.Form[k], v...)
		}
		c.Set(uploadContext, up)
		return next(c)
	}
}

// errTextTooLarge is a post whose text fields go over formTextLimit.
var errTextTooLarge = errors.New("web: form text over the limit")

// errBadForm is a multipart body that cannot be read as one.
var errBadForm = errors.New("web: malformed multipart form")

// readMultipart reads a report form's multipart body: its text fields
// (first value of each) and its pictures. Running over reportBodyLimit is
// not an error: upload.tooLarge says it, with what was read until then.
func readMultipart(body io.Reader, boundary string) (url.Values, *upload, error) {
	if boundary == "" {
		return nil, nil, errBadForm
	}
	mr := multipart.NewReader(&capReader{r: body, left: reportBodyLimit}, boundary)
	form := url.Values{}
	up := &upload{}
	textLeft := int64(formTextLimit)
	for range maxFormParts {
		p, err := mr.NextPart()
		switch {
		case errors.Is(err, io.EOF):
			return form, up, nil
		case errors.Is(err, errBodyTooLarge):
			up.tooLarge = true
			return form, up, nil
		case err != nil:
			return nil, nil, errBadForm
		}
		name := p.FormName()
		switch {
		case name == imagesField:
			data, err := io.ReadAll(io.LimitReader(p, intake.MaxImageBytes+1))
			if err == nil {
				// Past the first MaxImageBytes+1 bytes, intake will refuse
				// the picture whatever follows; read on without keeping it.
				_, err = io.Copy(io.Discard, p)
			}
			if err != nil {
				return partFailed(form, up, err)
			}
			if len(data) == 0 {
				continue
			}
			up.sent++
			if len(up.images) <= intake.MaxImages { // one more than allowed is enough to be refused
				up.images = append(up.images, data)
			}
		case reportField(name):
			data, err := io.ReadAll(io.LimitReader(p, textLeft+1))
			if err != nil {
				return partFailed(form, up, err)
			}
			if int64(len(data)) > textLeft {
				return nil, nil, errTextTooLarge
			}
			textLeft -= int64(len(data))
			if !form.Has(name) {
				form.Set(name, string(data))
			}
		default:
			if _, err := io.Copy(io.Discard, p); err != nil {
				return partFailed(form, up, err)
			}
		}
	}
	return nil, nil, errBadForm
}

// partFailed sorts an error while reading a part: over the body limit is
// an answer, anything else a malformed post.
func partFailed(form url.Values, up *upload, err error) (url.Values, *upload, error) {
	if errors.Is(err, errBodyTooLarge) {
		up.tooLarge = true
		return form, up, nil
	}
	return nil, nil, errBadForm
}
