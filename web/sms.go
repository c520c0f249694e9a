package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// emptyTwiML is a TwiML answer that tells Twilio to do nothing.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// smsTwilio is Twilio's webhook for incoming texts. The SMS channel is not
// built yet; 501 says so to Twilio's error log, and the empty TwiML makes
// sure no reply text goes out.
func (h *handler) smsTwilio(c echo.Context) error {
	return c.Blob(http.StatusNotImplemented, echo.MIMETextXML, []byte(emptyTwiML))
}
