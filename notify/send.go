package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/tipline/tipline/intake/timeline"
)

// Phone is how pages reach people: Twilio, or the dev outbox.
type Phone interface {
	Sender
	// SendTracked sends a text and asks for its delivery status to be
	// posted to statusURL.
	SendTracked(ctx context.Context, to, body, statusURL string) error
	// Call rings a number and plays the TwiML.
	Call(ctx context.Context, to, twiml string) error
	// Sent tells whether a text with this body has gone to a number since
	// a moment, and Called whether a call has: a send retried after its
	// worker died asks before sending again.
	Sent(ctx context.Context, to, body string, since time.Time) (bool, error)
	Called(ctx context.Context, to string, since time.Time) (bool, error)
}

// Channels a page goes out on, and the notice to admins about a number
// that could not be paged.
const (
	chSMS    = "sms"
	chVoice  = "voice"
	chNotice = "notice"
)

// sendPayload is one text or call to one person. It names the person, not
// the number: task payloads sit in Redis in the clear.
type sendPayload struct {
	Esc   string `json:"esc"`
	Gen   int    `json:"gen"`
	Pos   int    `json:"pos"`
	To    string `json:"to"` // a name in the team's config
	Ch    string `json:"ch"`
	About string `json:"about,omitempty"` // a notice: whose number failed
}

func (s sendPayload) id() string {
	id := s.Esc + ":" + strconv.Itoa(s.Gen) + ":" + strconv.Itoa(s.Pos) + ":" + s.Ch + ":" + s.To
	if s.About != "" {
		id += ":" + s.About
	}
	return id
}

func (pg *Pager) queueSend(ctx context.Context, s sendPayload, urgency string) error {
	b, _ := json.Marshal(s)
	_, err := pg.Queue.EnqueueContext(ctx, asynq.NewTask(TypeSend, b), asynq.Queue(queueFor(urgency)),
		asynq.TaskID("send:"+s.id()), asynq.MaxRetry(25), asynq.Retention(retention))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("notify: queue send: %w", err)
	}
	return nil
}

// RetryDelay is how long a failed paging task waits before its next try:
// a second, doubling to half a minute, with jitter so many retries after a
// Twilio outage do not arrive together. asynq's default starts near 15 s,
// too slow for a page.
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := time.Second << min(n, 5)
	d = min(d, 30*time.Second)
	return d/2 + rand.N(d/2+1)
}

// send makes one text or call, once in effect. Before sending it notes the
// attempt; a retry that finds the note (the worker died between sending
// and recording) asks Twilio whether the page went out before sending it
// again. So a page is neither lost nor sent twice.
func (pg *Pager) send(ctx context.Context, s sendPayload) error {
	id := s.id()
	if n, err := pg.Redis.Exists(ctx, keyEscSent(s.Esc, id)).Result(); err != nil {
		return fmt.Errorf("notify: send: %w", err)
	} else if n > 0 {
		return nil
	}
	st, ok, err := pg.loadEsc(ctx, s.Esc)
	if err != nil {
		return err
	}
	if !ok || st.Gen != s.Gen || (st.AckedBy != "" && s.Ch != chNotice) {
		return nil // acknowledged or superseded before this page went out
	}
	team := pg.teams[st.Team]
	who, ok := team.named(s.To)
	if !ok {
		return fmt.Errorf("notify: send: %q is no longer in team %s: %w", s.To, st.Team, asynq.SkipRetry)
	}
	body := pg.text(st, s.Pos)
	switch s.Ch {
	case chVoice:
		body = pg.voiceTwiML(st)
	case chNotice:
		body = fmt.Sprintf("tipline: could not page %s (number ending %s) about tip %s for %s: Twilio refused the number. Please correct it in the config.",
			s.About, lastDigits(team, s.About), st.Code, st.Org)
	}
	now := pg.Now()
	tried, err := pg.Redis.SetArgs(ctx, keyEscTry(s.Esc, id), now.UTC().Format(time.RFC3339Nano), redis.SetArgs{Mode: "NX", Get: true, TTL: keep}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("notify: send: %w", err)
	}
	if tried != "" {
		since, _ := time.Parse(time.RFC3339Nano, tried)
		went, err := pg.wentOut(ctx, s.Ch, who.Phone, body, since)
		if err != nil {
			return fmt.Errorf("notify: send: asking Twilio about an earlier try: %w", err)
		}
		if went {
			return pg.recordSent(ctx, st, s, who, now)
		}
	}
	switch s.Ch {
	case chVoice:
		err = pg.Phone.Call(ctx, who.Phone, body)
	case chSMS:
		err = pg.Phone.SendTracked(ctx, who.Phone, body, pg.statusURL(s))
	default:
		err = pg.Phone.Send(ctx, who.Phone, body)
	}
	if err != nil {
		pg.Metrics.twilioError(s.Ch)
		if Permanent(err) {
			return pg.failed(ctx, st, s, who, err)
		}
		return fmt.Errorf("notify: send %s to %s: %w", s.Ch, who.Name, err)
	}
	return pg.recordSent(ctx, st, s, who, now)
}

func (pg *Pager) wentOut(ctx context.Context, ch, to, body string, since time.Time) (bool, error) {
	if ch == chVoice {
		return pg.Phone.Called(ctx, to, since)
	}
	return pg.Phone.Sent(ctx, to, body, since)
}

// recordSent marks a send done and puts it on the tip's timeline.
func (pg *Pager) recordSent(ctx context.Context, st escState, s sendPayload, who Reviewer, at time.Time) error {
	_, err := pg.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, keyEscSent(s.Esc, s.id()), at.UTC().Format(time.RFC3339Nano), keep)
		if s.Ch == chNotice {
			return nil
		}
		return pg.timeline.AddTo(ctx, p, st.Tip, timeline.Event{At: at, Kind: timeline.Paged, Team: st.Team, Actor: "tipline",
			Detail: fmt.Sprintf("%s %s to %s, step %d", st.Urgency, channelName(s.Ch), who.Name, s.Pos+1)})
	})
	if err != nil {
		// Returning the error retries the task, which asks Twilio before
		// sending again.
		return fmt.Errorf("notify: record send: %w", err)
	}
	if s.Ch == chSMS && s.Pos == 0 {
		pg.Metrics.paged(st.Urgency, at.Sub(st.Received))
	}
	pg.Log.Info("paged", "code", st.Code, "team", st.Team, "urgency", st.Urgency, "channel", s.Ch, "step", s.Pos+1, "reviewer", who.Name)
	return nil
}

// failed handles a number Twilio refuses at once. A notice to an admin
// that fails is only logged: there is nobody left to tell.
func (pg *Pager) failed(ctx context.Context, st escState, s sendPayload, who Reviewer, cause error) error {
	pg.Log.Warn("page refused", "code", st.Code, "team", st.Team, "channel", s.Ch, "reviewer", who.Name, "err", cause)
	if s.Ch == chNotice {
		return fmt.Errorf("notify: notice to %s: %w: %w", who.Name, cause, asynq.SkipRetry)
	}
	if err := pg.undeliverable(ctx, st, s, who); err != nil {
		return err
	}
	return fmt.Errorf("notify: send %s to %s: %w: %w", s.Ch, who.Name, cause, asynq.SkipRetry)
}

// undeliverable handles a page that cannot reach its person: the timeline
// says so, the team's admins are told which entry to fix, and once every
// target of the step has failed the next step is paged at once instead of
// after the delay.
func (pg *Pager) undeliverable(ctx context.Context, st escState, s sendPayload, who Reviewer) error {
	_ = pg.timeline.Add(ctx, st.Tip, timeline.Event{Kind: timeline.Failed, Team: st.Team, Actor: "tipline",
		Detail: fmt.Sprintf("%s to %s not delivered: number invalid or unreachable", channelName(s.Ch), who.Name)})
	team := pg.teams[st.Team]
	for _, a := range team.Admins {
		if a.Phone == who.Phone {
			continue
		}
		n := sendPayload{Esc: s.Esc, Gen: s.Gen, Pos: s.Pos, To: a.Name, Ch: chNotice, About: who.Name}
		if err := pg.queueSend(ctx, n, "high"); err != nil {
			return err
		}
	}
	if s.Ch != chSMS {
		return nil // the text to the same person decides
	}
	plan := team.plan()
	targets := team.resolve(plan[s.Pos], pg.Now())
	key := keyEscFailed(s.Esc, s.Gen, s.Pos)
	if err := pg.Redis.SAdd(ctx, key, who.Name).Err(); err != nil {
		return fmt.Errorf("notify: send: %w", err)
	}
	pg.Redis.Expire(ctx, key, keep)
	failed, err := pg.Redis.SCard(ctx, key).Result()
	if err != nil {
		return fmt.Errorf("notify: send: %w", err)
	}
	if int(failed) >= len(targets) && s.Pos+1 < len(plan) {
		// The scheduled step keeps its own ID and will find its sends
		// already queued: nobody is paged twice for it.
		return pg.queueStepNow(ctx, s.Esc, s.Gen, s.Pos+1, st.Urgency)
	}
	return nil
}

// queueStepNow runs a step at once that is already scheduled for later:
// under another task ID, since the scheduled one holds its own.
func (pg *Pager) queueStepNow(ctx context.Context, esc string, gen, pos int, urgency string) error {
	s := stepPayload{Esc: esc, Gen: gen, Pos: pos}
	b, _ := json.Marshal(s)
	_, err := pg.Queue.EnqueueContext(ctx, asynq.NewTask(TypeStep, b), asynq.Queue(queueFor(urgency)),
		asynq.TaskID(s.id()+":now"), asynq.MaxRetry(25), asynq.Retention(retention))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("notify: queue step: %w", err)
	}
	return nil
}

func channelName(ch string) string {
	if ch == chVoice {
		return "call"
	}
	return "SMS"
}

// lastDigits gives the last two digits of a named person's number: enough
// for an admin to know which entry to fix.
func lastDigits(t Team, name string) string {
	r, _ := t.named(name)
	if len(r.Phone) < 2 {
		return "??"
	}
	return r.Phone[len(r.Phone)-2:]
}
