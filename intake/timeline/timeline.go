// Package timeline keeps what happened to each tip, in order: received,
// triaged, paged, delivered, escalated, acknowledged, messaged, changed,
// closed. The dashboard shows it and the program figures are counted from
// it. An event holds no text a reporter wrote: details are names, codes and
// outcomes, so the timeline needs no encryption.
package timeline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Kind is what an event records.
type Kind string

// The kinds of event. Tests and the figures rely on these names.
const (
	Received   Kind = "received"   // the tip was stored
	Triaged    Kind = "triaged"    // urgency, category and team were set
	Paged      Kind = "paged"      // a page was handed to Twilio (Detail: channel and step)
	Delivered  Kind = "delivered"  // Twilio accepted the page
	Failed     Kind = "failed"     // a page could not be delivered (Detail: why)
	Escalated  Kind = "escalated"  // nobody acknowledged in time; the next step was paged
	Acked      Kind = "acked"      // a reviewer acknowledged (Detail: how: sms, voice, dashboard)
	Digested   Kind = "digested"   // a routine tip was listed in its team's digest
	Message    Kind = "message"    // a message to or from the reporter (Detail: who, never the text)
	Assigned   Kind = "assigned"   // the tip was assigned to a reviewer
	Status     Kind = "status"     // the tip's status changed (Detail: the new status)
	Note       Kind = "note"       // an internal note was added (its text is kept elsewhere, sealed)
	Closed     Kind = "closed"     // the tip was closed (Detail: outcome and referrals)
	Reopened   Kind = "reopened"   // a closed tip was opened again
	Exported   Kind = "exported"   // the case was exported
	Superseded Kind = "superseded" // a raised urgency replaced an escalation
)

// Event is one entry of a tip's timeline.
type Event struct {
	At     time.Time `json:"at"`
	Kind   Kind      `json:"kind"`
	Team   string    `json:"team,omitempty"`
	Actor  string    `json:"actor,omitempty"`  // a reviewer's name, or "tipline"
	Detail string    `json:"detail,omitempty"` // never a reporter's words
}

// Key is the Redis list that holds a tip's timeline. The tip ID sits in
// braces, like the tip's own keys, so they share a Cluster slot.
func Key(tipID string) string { return "tip:{" + tipID + "}:timeline" }

// Log reads and writes timelines.
type Log struct {
	rdb redis.UniversalClient
}

// New returns a timeline log on rdb.
func New(rdb redis.UniversalClient) *Log { return &Log{rdb: rdb} }

// Add appends an event to a tip's timeline. A zero At is now.
func (l *Log) Add(ctx context.Context, tipID string, e Event) error {
	return l.AddTo(ctx, l.rdb, tipID, e)
}

// AddTo appends an event through cmd, which may be a pipeline or a
// transaction, so the event lands with the change it records.
func (l *Log) AddTo(ctx context.Context, cmd redis.Cmdable, tipID string, e Event) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	if err := cmd.RPush(ctx, Key(tipID), b).Err(); err != nil {
		return fmt.Errorf("timeline: add: %w", err)
	}
	return nil
}

// List returns a tip's timeline, oldest first.
func (l *Log) List(ctx context.Context, tipID string) ([]Event, error) {
	raw, err := l.rdb.LRange(ctx, Key(tipID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("timeline: list: %w", err)
	}
	out := make([]Event, 0, len(raw))
	for _, s := range raw {
		var e Event
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			return nil, fmt.Errorf("timeline: list %s: %w", tipID, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// First returns the time of a tip's first event of kind k, and whether
// there is one: the figures measure time to acknowledge with it.
func First(events []Event, k Kind) (time.Time, bool) {
	for _, e := range events {
		if e.Kind == k {
			return e.At, true
		}
	}
	return time.Time{}, false
}
