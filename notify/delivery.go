package notify

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/tipline/tipline/intake/timeline"
)

// StatusPath is where Twilio posts a page's delivery status.
const StatusPath = "/sms/twilio/status"

// statusURL names one send in its query, which Twilio's signature covers.
func (pg *Pager) statusURL(s sendPayload) string {
	q := url.Values{"esc": {s.Esc}, "gen": {strconv.Itoa(s.Gen)}, "pos": {strconv.Itoa(s.Pos)}, "to": {s.To}}
	return pg.PublicURL + StatusPath + "?" + q.Encode()
}

// Delivery takes Twilio's report on a page's text. "delivered" goes on the
// timeline; "undelivered" or "failed" means the page never reached the
// phone, which is handled like a refused number: the team's admins are
// told and, once the step has nobody left, the next step is paged now.
// Other statuses (queued, sent) say nothing new.
func (pg *Pager) Delivery(ctx context.Context, q url.Values, status string) error {
	gen, err1 := strconv.Atoi(q.Get("gen"))
	pos, err2 := strconv.Atoi(q.Get("pos"))
	s := sendPayload{Esc: q.Get("esc"), Gen: gen, Pos: pos, To: q.Get("to"), Ch: chSMS}
	if err1 != nil || err2 != nil || s.Esc == "" || s.To == "" {
		return fmt.Errorf("notify: delivery: %w", ErrNoPage)
	}
	if status != "delivered" && status != "undelivered" && status != "failed" {
		return nil
	}
	// Twilio may post a status more than once, and once per part.
	first, err := pg.Redis.SetNX(ctx, keyEscSent(s.Esc, s.id())+":"+status, "1", keep).Result()
	if err != nil {
		return fmt.Errorf("notify: delivery: %w", err)
	}
	if !first {
		return nil
	}
	st, ok, err := pg.loadEsc(ctx, s.Esc)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("notify: delivery: %w", ErrNoPage)
	}
	team := pg.teams[st.Team]
	who, ok := team.named(s.To)
	if !ok {
		return fmt.Errorf("notify: delivery: %w", ErrNoPage)
	}
	if status == "delivered" {
		return pg.timeline.Add(ctx, st.Tip, timeline.Event{Kind: timeline.Delivered, Team: st.Team, Actor: "tipline",
			Detail: fmt.Sprintf("SMS to %s delivered, step %d", who.Name, s.Pos+1)})
	}
	pg.Metrics.twilioError(chSMS)
	if st.Gen != s.Gen || st.AckedBy != "" {
		return nil // no longer matters for paging
	}
	return pg.undeliverable(ctx, st, s, who)
}
