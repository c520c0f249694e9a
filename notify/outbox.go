package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// keyOutbox holds the dev outbox's latest messages, newest first.
const keyOutbox = "notify:outbox"

// outboxKeep is how many messages the dev outbox remembers.
const outboxKeep = 200

// OutboxMessage is one message the dev outbox took instead of Twilio.
type OutboxMessage struct {
	To   string    `json:"to"` // masked: the outbox is for seeing that paging works, not for numbers
	Body string    `json:"body"`
	At   time.Time `json:"at"`
}

// Outbox is the sender used without Twilio credentials: each message is
// printed to the console and kept in Redis for the dashboard to show.
type Outbox struct {
	rdb redis.UniversalClient
	log *slog.Logger
}

// NewOutbox returns a dev outbox on rdb that also logs to log.
func NewOutbox(rdb redis.UniversalClient, log *slog.Logger) *Outbox {
	return &Outbox{rdb: rdb, log: log}
}

// Send keeps the message and prints it.
func (o *Outbox) Send(ctx context.Context, to, body string) error {
	m := OutboxMessage{To: maskPhone(to), Body: body, At: time.Now().UTC()}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("notify: outbox: %w", err)
	}
	_, err = o.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, keyOutbox, b)
		p.LTrim(ctx, keyOutbox, 0, outboxKeep-1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("notify: outbox: %w", err)
	}
	// Pages never hold a tip's text, so the body can be shown here.
	o.log.Info("dev outbox: SMS not sent (no Twilio credentials)", "to", m.To, "body", body)
	return nil
}

// Messages returns the outbox's latest messages, newest first.
func (o *Outbox) Messages(ctx context.Context) ([]OutboxMessage, error) {
	raw, err := o.rdb.LRange(ctx, keyOutbox, 0, outboxKeep-1).Result()
	if err != nil {
		return nil, fmt.Errorf("notify: outbox: %w", err)
	}
	out := make([]OutboxMessage, 0, len(raw))
	for _, r := range raw {
		var m OutboxMessage
		if err := json.Unmarshal([]byte(r), &m); err != nil {
			return nil, fmt.Errorf("notify: outbox: %w", err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Call keeps a page call as a message saying it rang: in development the
// console shows that a critical page would have called.
func (o *Outbox) Call(ctx context.Context, to, twiml string) error {
	return o.Send(ctx, to, "[voice call] "+twiml)
}

// Sent tells whether the outbox holds this text to this number since then.
func (o *Outbox) Sent(ctx context.Context, to, body string, since time.Time) (bool, error) {
	return o.holds(ctx, to, since, func(b string) bool { return b == body })
}

// Called tells whether the outbox holds a call to this number since then.
func (o *Outbox) Called(ctx context.Context, to string, since time.Time) (bool, error) {
	return o.holds(ctx, to, since, func(b string) bool { return strings.HasPrefix(b, "[voice call] ") })
}

func (o *Outbox) holds(ctx context.Context, to string, since time.Time, match func(string) bool) (bool, error) {
	msgs, err := o.Messages(ctx)
	if err != nil {
		return false, err
	}
	for _, m := range msgs {
		if m.To == maskPhone(to) && !m.At.Before(since) && match(m.Body) {
			return true, nil
		}
	}
	return false, nil
}

// SendTracked sends like Send: the outbox has no delivery to report.
func (o *Outbox) SendTracked(ctx context.Context, to, body, _ string) error {
	return o.Send(ctx, to, body)
}
