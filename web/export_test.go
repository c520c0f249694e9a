package web

import (
	"bytes"
	"io/fs"
	"net/url"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// NewWithClock is New with a fixed clock, so rate-limit tests do not
// depend on where in a minute they run.
func NewWithClock(cfg Config, now func() time.Time) (*echo.Echo, error) {
	return newServer(cfg, now, localeFS())
}

// NewWithLocales is New with another folder of message catalogues, to show
// that a language is a file.
func NewWithLocales(cfg Config, locales fs.FS) (*echo.Echo, error) {
	return newServer(cfg, time.Now, locales)
}

// LoadLocales loads a folder of message catalogues as start-up does.
func LoadLocales(fsys fs.FS) error {
	_, err := loadCatalog(fsys)
	return err
}

// ShippedLocales is the folder of catalogues built into the binary.
func ShippedLocales() fs.FS { return localeFS() }

// AcceptLanguage is the language the shipped catalogues give a request
// with this Accept-Language header and nothing else.
func AcceptLanguage(header string) string {
	return shippedCatalog().fromAcceptLanguage(header)
}

// shippedCatalog is loaded once for the fuzz target, which calls often.
var shippedCatalog = sync.OnceValue(func() *catalog {
	cat, err := loadCatalog(localeFS())
	if err != nil {
		panic(err)
	}
	return cat
})

// Upload is what ReadMultipart found besides the text fields.
type Upload struct {
	Images   [][]byte
	Sent     int
	TooLarge bool
}

// ReadMultipart reads a report form's multipart body as the report route does.
func ReadMultipart(body []byte, boundary string) (url.Values, Upload, error) {
	form, up, err := readMultipart(bytes.NewReader(body), boundary)
	if err != nil {
		return nil, Upload{}, err
	}
	return form, Upload{Images: up.images, Sent: up.sent, TooLarge: up.tooLarge}, nil
}

// Limits of a report post, for tests that go over them.
const (
	ReportBodyLimit = reportBodyLimit
	FormTextLimit   = formTextLimit
)
