package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	client     *twilio.RestClient
	http       *http.Client
	sid, token string
	from       string
	apiHost    string // the host media URLs must name
}

// NewTwilio returns a sender for the account sid with its auth token,
// sending from the number from. A non-empty apiURL replaces
// https://api.twilio.com, for staging and for tests against a local server
// that speaks Twilio's API.
func NewTwilio(sid, token, from, apiURL string) (*Twilio, error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	apiHost := twilioHost
	if apiURL != "" {
		u, err := url.Parse(apiURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("notify: twilio API URL %q is not an absolute URL", apiURL)
		}
		hc.Transport = &rebase{to: u, next: http.DefaultTransport}
		apiHost = u.Host
	}
	c := &twclient.Client{Credentials: twclient.NewCredentials(sid, token), HTTPClient: hc}
	c.SetAccountSid(sid)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Username: sid, Password: token, AccountSid: sid, Client: c})
	return &Twilio{client: rc, http: hc, sid: sid, token: token, from: from, apiHost: apiHost}, nil
}

// twilioHost is where Twilio's REST API and MMS media live.
const twilioHost = "api.twilio.com"

// Media fetches an MMS attachment from Twilio, at most limit bytes. Media
// URLs come in signed webhooks, but only URLs on Twilio's API host are
// fetched, with the account's credentials, so a webhook can never make
// tipline fetch from elsewhere.
func (t *Twilio) Media(ctx context.Context, mediaURL string, limit int64) ([]byte, error) {
	u, err := url.Parse(mediaURL)
	if err != nil || (u.Host != twilioHost && u.Host != t.apiHost) || (u.Scheme != "https" && u.Host != t.apiHost) {
		return nil, &PermanentError{Err: errors.New("notify: media URL is not on Twilio's API host")}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mediaURL, nil)
	if err != nil {
		return nil, fmt.Errorf("notify: media: %w", err)
	}
	req.SetBasicAuth(t.sid, t.token)
	resp, err := t.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("notify: media: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("notify: media: status %d", resp.StatusCode)
		if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return nil, &PermanentError{Err: err}
		}
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("notify: media: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, &PermanentError{Err: fmt.Errorf("notify: media: larger than %d bytes", limit)}
	}
	return b, nil
}

// Send sends body to the number to, as single-segment parts (see Split).
// Errors sort into permanent and worth retrying (see sortError).
func (t *Twilio) Send(ctx context.Context, to, body string) error {
	return t.SendTracked(ctx, to, body, "")
}

// rebase sends requests for Twilio's API host to another scheme and host,
// keeping the path: twilio-go has its base URL built in. Other hosts (where
// Twilio redirects media downloads) are left alone.
type rebase struct {
	to   *url.URL
	next http.RoundTripper
}

func (r *rebase) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != twilioHost {
		return r.next.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	req.URL.Scheme = r.to.Scheme
	req.URL.Host = r.to.Host
	req.URL.Path = strings.TrimSuffix(r.to.Path, "/") + req.URL.Path
	req.Host = r.to.Host
	return r.next.RoundTrip(req)
}

// Call rings to and plays twiml. Errors sort as Send's do.
func (t *Twilio) Call(ctx context.Context, to, twiml string) error {
	p := &openapi.CreateCallParams{}
	p.SetTo(to)
	p.SetFrom(t.from)
	p.SetTwiml(twiml)
	p.SetTimeout(30)
	_, err := t.client.Api.CreateCall(p)
	return sortError(err)
}

// Sent tells whether a text whose first part is body's went to a number
// at or after since, by listing the account's recent messages to it.
func (t *Twilio) Sent(ctx context.Context, to, body string, since time.Time) (bool, error) {
	p := &openapi.ListMessageParams{}
	p.SetTo(to)
	p.SetFrom(t.from)
	p.SetPageSize(50)
	p.SetLimit(50)
	msgs, err := t.client.Api.ListMessage(p)
	if err != nil {
		return false, sortError(err)
	}
	first := Split(body)[0]
	for _, m := range msgs {
		if m.Body != nil && *m.Body == first && createdSince(m.DateCreated, since) {
			return true, nil
		}
	}
	return false, nil
}

// Called tells whether a call went to a number at or after since. Calls
// carry no text to match, so any call to the number counts: pages to one
// person are minutes apart, retries seconds.
func (t *Twilio) Called(ctx context.Context, to string, since time.Time) (bool, error) {
	p := &openapi.ListCallParams{}
	p.SetTo(to)
	p.SetFrom(t.from)
	p.SetPageSize(20)
	p.SetLimit(20)
	calls, err := t.client.Api.ListCall(p)
	if err != nil {
		return false, sortError(err)
	}
	for _, c := range calls {
		if createdSince(c.DateCreated, since) {
			return true, nil
		}
	}
	return false, nil
}

// createdSince reads Twilio's RFC 2822 date_created. Twilio's clock may
// run a little behind ours: two seconds of slack.
func createdSince(created *string, since time.Time) bool {
	if created == nil {
		return false
	}
	at, err := time.Parse(time.RFC1123Z, *created)
	if err != nil {
		return false
	}
	return !at.Before(since.Add(-2 * time.Second))
}

// sortError makes Twilio's 4xx answers (bad number, unsubscribed
// recipient) permanent; 429, 5xx and network errors are worth retrying.
func sortError(err error) error {
	if err == nil {
		return nil
	}
	var te *twclient.TwilioRestError
	if errors.As(err, &te) && te.Status >= 400 && te.Status < 500 && te.Status != http.StatusTooManyRequests {
		return &PermanentError{Err: fmt.Errorf("notify: twilio: status %d, code %d", te.Status, te.Code)}
	}
	return fmt.Errorf("notify: twilio: %w", err)
}

// SendTracked sends like Send, and when statusURL is set Twilio posts
// each part's delivery status there.
func (t *Twilio) SendTracked(ctx context.Context, to, body, statusURL string) error {
	// twilio-go has no context support; the HTTP client's timeout bounds
	// each call instead.
	for _, part := range Split(body) {
		p := &openapi.CreateMessageParams{}
		p.SetTo(to)
		p.SetFrom(t.from)
		p.SetBody(part)
		if statusURL != "" {
			p.SetStatusCallback(statusURL)
		}
		if _, err := t.client.Api.CreateMessage(p); err != nil {
			return sortError(err)
		}
	}
	return nil
}
