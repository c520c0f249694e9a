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
	Images   [][]byte // uploaded images as sent; Submit checks and re-encodes them, skipping empty ones (a file input left blank)
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

	// decoding holds a slot for each image being decoded. A picture within
	// the limits can still take hundreds of megabytes and seconds to decode,
	// so a burst of uploads waits its turn instead of exhausting memory,
	// and reports without images never wait at all.
	decoding chan struct{}
}

// maxDecoding is how many images one process decodes at a time.
const maxDecoding = 2

// New returns an Intake that keeps tips in store and hands them to queue.
func New(store *Store, queue Queue, log *slog.Logger) *Intake {
	return &Intake{store: store, queue: queue, clean: newCleaner(), log: log, now: time.Now,
		decoding: make(chan struct{}, maxDecoding)}
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
	// Every image is checked before anything is stored: a refused report
	// leaves nothing behind.
	images, err := in.cleanImages(ctx, r.Images)
	if err != nil {
		return Receipt{}, err
	}
	t.Images = len(images)
	token := newToken()
	if err := in.store.create(ctx, t, token, images); err != nil {
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

// fieldImages is the report field FieldErrors about images name.
const fieldImages = "images"

// cleanImages checks and re-encodes a report's images, in order. Errors
// name the image by its place in the report, counting from 1, as a
// reporter counts the files they chose.
func (in *Intake) cleanImages(ctx context.Context, raw [][]byte) ([]Image, error) {
	n := 0
	for _, b := range raw {
		if len(b) > 0 {
			n++
		}
	}
	if n > MaxImages {
		return nil, &FieldError{Field: fieldImages, Code: ErrTooManyImages, Limit: MaxImages,
			Message: fmt.Sprintf("At most %d images can be attached to a report.", MaxImages)}
	}
	// Sizes first: they cost nothing to check, and a reporter hears about
	// a too-big file before waiting for the others to be decoded.
	for i, b := range raw {
		if len(b) > MaxImageBytes {
			return nil, imageFieldError(i+1, errImageTooLarge)
		}
	}
	out := make([]Image, 0, n)
	for i, b := range raw {
		if len(b) == 0 {
			continue
		}
		img, err := in.cleanImageInTurn(ctx, b)
		if err != nil {
			if ctx.Err() != nil {
				// The reporter is gone or the server is stopping: not
				// the image's fault.
				return nil, fmt.Errorf("intake: clean images: %w", ctx.Err())
			}
			return nil, imageFieldError(i+1, err)
		}
		out = append(out, img)
	}
	return out, nil
}

// cleanImageInTurn cleans one image once a decoding slot is free.
func (in *Intake) cleanImageInTurn(ctx context.Context, raw []byte) (Image, error) {
	select {
	case in.decoding <- struct{}{}:
		defer func() { <-in.decoding }()
	case <-ctx.Done():
		return Image{}, ctx.Err()
	}
	return cleanImage(raw)
}

// imageFieldError says what is wrong with the nth image of a report.
func imageFieldError(n int, err error) *FieldError {
	switch {
	case errors.Is(err, errImageTooLarge):
		return &FieldError{Field: fieldImages, Code: ErrImageTooLarge, Limit: MaxImageBytes,
			Message: fmt.Sprintf("Image %d is too large: at most %d MB.", n, MaxImageBytes>>20)}
	case errors.Is(err, errImageTooManyPixels):
		// The same code as too many bytes: to a reporter both mean "send a
		// smaller picture", and a screenshot of it will do.
		return &FieldError{Field: fieldImages, Code: ErrImageTooLarge, Limit: MaxImageBytes,
			Message: fmt.Sprintf("Image %d is too large: at most %d megapixels and %d pixels a side.", n, MaxImagePixels/1_000_000, MaxImageSide)}
	}
	return &FieldError{Field: fieldImages, Code: ErrImageType,
		Message: fmt.Sprintf("Image %d is not a picture tipline can take: use JPEG, PNG, GIF or WebP.", n)}
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
