package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Queue hands a stored tip to the triage workers. The tip's text is there so
// the queue can pick a priority; only the ID may travel on.
type Queue interface {
	Enqueue(ctx context.Context, t *Tip) error
}

// Report is what a reporter sends, before any checking.
type Report struct {
	Channel  Channel
	Org      string
	Category string
	Body     string
	Location string
	When     string
	Subject  string
	Contact  string // optional: only for reporters who choose to be reachable
	Danger   bool
	Images   [][]byte // uploaded images as sent; Submit checks and re-encodes them
}

// Receipt is what a reporter gets back for a stored tip.
type Receipt struct {
	TipID  string
	Token  Token
	Status Status
}

// Followup is what a reporter sees when checking back with a token.
type Followup struct {
	TipID    string
	Status   Status
	Messages []Message
}

// ErrUnavailable means the store could not be reached, so nothing was saved
// and the reporter must try again.
var ErrUnavailable = errors.New("intake: store unavailable")

// Intake checks, stores and queues reports, and answers reporters who
// check back.
type Intake struct {
	store *Store
	queue Queue
	clean *cleaner
	log   *slog.Logger
	now   func() time.Time
}

// New returns an Intake that keeps tips in store and hands them to queue.
func New(store *Store, queue Queue, log *slog.Logger) *Intake {
	return &Intake{store: store, queue: queue, clean: newCleaner(), log: log, now: time.Now}
}

// Store returns the store tips are kept in.
func (in *Intake) Store() *Store { return in.store }

// Submit validates and cleans a report, stores it and queues it for triage.
// A token is returned only once the tip is durable in Redis. If queueing
// fails after that, the tip stays in "received" and the sweeper queues it;
// the reporter still gets the token, because the tip is not lost.
func (in *Intake) Submit(ctx context.Context, r Report) (Receipt, error) {
	t, err := in.check(r)
	if err != nil {
		return Receipt{}, err
	}
	token := newToken()
	if err := in.store.create(ctx, t, token); err != nil {
		return Receipt{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := in.queue.Enqueue(ctx, t); err != nil {
		in.log.Warn("tip stored but not queued; the sweeper will queue it", "tip", t.ID, "err", err)
	}
	return Receipt{TipID: t.ID, Token: token, Status: t.Status}, nil
}

// check turns a report into a tip, or says which field is wrong.
func (in *Intake) check(r Report) (*Tip, error) {
	t := &Tip{
		ID:         randomBase32(tokenChars),
		ReceivedAt: in.now().UTC(),
		Channel:    r.Channel,
		Danger:     r.Danger,
		Status:     StatusReceived,
	}
	if t.Channel == "" {
		t.Channel = ChannelAPI
	}
	checks := []struct {
		f   field
		in  string
		out *string
	}{
		{fieldOrg, r.Org, &t.Org},
		{fieldCategory, r.Category, &t.Category},
		{fieldBody, r.Body, &t.Body},
		{fieldLocation, r.Location, &t.Location},
		{fieldWhen, r.When, &t.When},
		{fieldSubject, r.Subject, &t.Subject},
		{fieldContact, r.Contact, &t.Contact},
	}
	for _, c := range checks {
		v, err := in.clean.clean(c.f, c.in)
		if err != nil {
			return nil, err
		}
		*c.out = v
	}
	if t.Category == "" {
		t.Category = CategoryOther
	}
	if !KnownCategory(t.Category) {
		return nil, &FieldError{Field: fieldCategory.name, Code: ErrUnknownCategory, Message: "Category is not one of the listed categories."}
	}
	return t, nil
}

// Followup returns the status and conversation of the tip a token belongs
// to. Any unknown or malformed token gives ErrNotFound, after the same work.
func (in *Intake) Followup(ctx context.Context, token string) (*Followup, error) {
	id, err := in.tipForToken(ctx, token)
	if err != nil {
		return nil, err
	}
	t, err := in.store.Tip(ctx, id)
	if err != nil {
		return nil, err
	}
	msgs, err := in.store.Messages(ctx, id)
	if err != nil {
		return nil, err
	}
	return &Followup{TipID: id, Status: t.Status, Messages: msgs}, nil
}

// Reply adds a reporter's message to the conversation of a token's tip.
func (in *Intake) Reply(ctx context.Context, token, body string) error {
	text, err := in.clean.clean(fieldMessage, body)
	if err != nil {
		return err
	}
	id, err := in.tipForToken(ctx, token)
	if err != nil {
		return err
	}
	return in.store.AddMessage(ctx, id, Message{From: FromReporter, Body: text, At: in.now().UTC()})
}

func (in *Intake) tipForToken(ctx context.Context, text string) (string, error) {
	tok, perr := ParseToken(text)
	if perr != nil {
		// Look up the raw text anyway: a malformed token must cost what a
		// wrong one costs, so timing does not tell them apart.
		tok = Token(text)
	}
	id, err := in.store.tipIDForToken(ctx, string(tok))
	if perr != nil && err == nil {
		return "", ErrNotFound
	}
	return id, err
}
