package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// Twilio sends SMS through Twilio's REST API with twilio-go.
type Twilio struct {
	client *twilio.RestClient
	from   string
}

// NewTwilio returns a sender for the account sid with its auth token,
// sending from the number from. A non-empty apiURL replaces
// https://api.twilio.com, for staging and for tests against a local server
// that speaks Twilio's API.
func NewTwilio(sid, token, from, apiURL string) (*Twilio, error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	if apiURL != "" {
		u, err := url.Parse(apiURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("notify: twilio API URL %q is not an absolute URL", apiURL)
		}
		hc.Transport = &rebase{to: u, next: http.DefaultTransport}
	}
	c := &twclient.Client{Credentials: twclient.NewCredentials(sid, token), HTTPClient: hc}
	c.SetAccountSid(sid)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Username: sid, Password: token, AccountSid: sid, Client: c})
	return &Twilio{client: rc, from: from}, nil
}

// Send sends body to the number to. Twilio's 4xx answers (bad number,
// unsubscribed recipient) are permanent; 429, 5xx and network errors are
// worth retrying.
func (t *Twilio) Send(ctx context.Context, to, body string) error {
	// twilio-go has no context support; the HTTP client's timeout bounds
	// each call instead.
	p := &openapi.CreateMessageParams{}
	p.SetTo(to)
	p.SetFrom(t.from)
	p.SetBody(body)
	_, err := t.client.Api.CreateMessage(p)
	if err == nil {
		return nil
	}
	var te *twclient.TwilioRestError
	if errors.As(err, &te) && te.Status >= 400 && te.Status < 500 && te.Status != http.StatusTooManyRequests {
		return &PermanentError{Err: fmt.Errorf("notify: twilio: status %d, code %d", te.Status, te.Code)}
	}
	return fmt.Errorf("notify: twilio: %w", err)
}

// rebase sends every request to another scheme and host, keeping the path:
// twilio-go has its base URL built in.
type rebase struct {
	to   *url.URL
	next http.RoundTripper
}

func (r *rebase) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme = r.to.Scheme
	req.URL.Host = r.to.Host
	req.URL.Path = strings.TrimSuffix(r.to.Path, "/") + req.URL.Path
	req.Host = r.to.Host
	return r.next.RoundTrip(req)
}
