package notify

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tipline/tipline/intake/timeline"
)

// Ways a reviewer acknowledges a page.
const (
	ViaSMS       = "sms"
	ViaVoice     = "voice"
	ViaDashboard = "dashboard"
)

// ErrNoPage means an acknowledgement named no open page the sender may
// acknowledge.
var ErrNoPage = errors.New("notify: no such page")

// ackReply is what a reviewer texts back: the code and an "a", as
// GoAlert takes it ("12a", "12 a", "ack 12", "a12").
var ackReply = regexp.MustCompile(`(?i)^\s*(?:(\d{1,9})\s*a(?:ck)?|a(?:ck)?\s*(\d{1,9}))\s*[.!]?\s*$`)

// ackEsc marks an escalation acknowledged, once: the first acknowledgement
// wins and later ones learn who it was.
var ackEsc = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 0 then return {0, ""} end
local by = redis.call("HGET", KEYS[1], "acked_by")
if by and by ~= "" then return {2, by} end
redis.call("HSET", KEYS[1], "acked_by", ARGV[1], "acked_at", ARGV[2], "acked_via", ARGV[3])
return {1, ARGV[1]}`)

// ack acknowledges one escalation for a person. It answers who had
// acknowledged it first when someone had.
func (pg *Pager) ack(ctx context.Context, esc, name, via string) (escState, string, error) {
	now := pg.Now()
	res, err := ackEsc.Run(ctx, pg.Redis, []string{keyEsc(esc)}, name, now.UTC().Format(time.RFC3339Nano), via).Slice()
	if err != nil {
		return escState{}, "", fmt.Errorf("notify: ack: %w", err)
	}
	st, ok, err := pg.loadEsc(ctx, esc)
	if err != nil {
		return escState{}, "", err
	}
	if !ok || res[0].(int64) == 0 {
		return escState{}, "", ErrNoPage
	}
	if res[0].(int64) == 2 {
		by, _ := res[1].(string)
		return st, by, nil
	}
	_ = pg.timeline.Add(ctx, st.Tip, timeline.Event{At: now, Kind: timeline.Acked, Team: st.Team, Actor: name, Detail: via})
	pg.Metrics.acked(st.Urgency, via, now.Sub(st.Received))
	pg.Log.Info("acknowledged", "code", st.Code, "team", st.Team, "reviewer", name, "via", via)
	return st, "", nil
}

// ackCode acknowledges the page with an ack code for the person at phone,
// who must be someone the page's team pages.
func (pg *Pager) ackCode(ctx context.Context, code, phone, via string) (escState, string, string, error) {
	esc, err := pg.Redis.Get(ctx, keyAckCode(code)).Result()
	if errors.Is(err, redis.Nil) {
		return escState{}, "", "", ErrNoPage
	}
	if err != nil {
		return escState{}, "", "", fmt.Errorf("notify: ack: %w", err)
	}
	team, _, _ := strings.Cut(esc, ":")
	t, ok := pg.teams[team]
	if !ok || !t.Knows(phone) {
		return escState{}, "", "", ErrNoPage
	}
	name := t.nameOf(phone)
	st, first, err := pg.ack(ctx, esc, name, via)
	return st, name, first, err
}

// Reply answers a text from a reviewer's number: an acknowledgement, or a
// line saying how to give one. It is never a tip.
func (pg *Pager) Reply(ctx context.Context, from, body string) (string, error) {
	m := ackReply.FindStringSubmatch(body)
	if m == nil {
		return "tipline: to acknowledge a page, reply with its code and an a, like 12a. Read and act on tips in the dashboard.", nil
	}
	code := m[1] + m[2]
	st, _, first, err := pg.ackCode(ctx, code, from, ViaSMS)
	if errors.Is(err, ErrNoPage) {
		return fmt.Sprintf("tipline: no page %s for your number. Check the code in the page.", code), nil
	}
	if err != nil {
		return "", err
	}
	if first != "" {
		return fmt.Sprintf("tipline: tip %s was already acknowledged by %s.", st.Code, first), nil
	}
	return fmt.Sprintf("tipline: acknowledged tip %s. Paging has stopped. %s/review/tips/%s", st.Code, pg.PublicURL, st.Tip), nil
}

// IsReviewer tells whether a number belongs to anyone a team pages: their
// texts to the tip line's number are replies, never tips.
func (pg *Pager) IsReviewer(phone string) bool {
	for _, t := range pg.teams {
		if t.Knows(phone) {
			return true
		}
	}
	return false
}

// AckTip acknowledges, for a reviewer in the dashboard, every open page
// about the incident a tip belongs to.
func (pg *Pager) AckTip(ctx context.Context, tipID, reviewer string) error {
	cluster := tipID
	if pg.ClusterOf != nil {
		c, err := pg.ClusterOf(ctx, tipID)
		if err != nil {
			return fmt.Errorf("notify: ack: %w", err)
		}
		if c != "" {
			cluster = c
		}
	}
	escs, err := pg.Redis.SMembers(ctx, keyCluster(cluster)).Result()
	if err != nil {
		return fmt.Errorf("notify: ack: %w", err)
	}
	for _, esc := range escs {
		if _, _, err := pg.ack(ctx, esc, reviewer, ViaDashboard); err != nil && !errors.Is(err, ErrNoPage) {
			return err
		}
	}
	return nil
}

// nameOf is the name of the person with this number.
func (t Team) nameOf(phone string) string {
	for _, group := range [][]Reviewer{t.OnCall, t.Admins, t.Escalation.Final} {
		for _, r := range group {
			if r.Phone == phone {
				return r.Name
			}
		}
	}
	for _, o := range t.Overrides {
		if o.Phone == phone {
			return o.Name
		}
	}
	return "a reviewer"
}

// VoicePath is where a page call's keypress is sent.
const VoicePath = "/voice/twilio/ack"

// voiceTwiML is what a page call says: the urgency and organisation, then
// it waits for a key. A keypress posts to VoicePath with the ack code in
// the URL, which Twilio's signature covers.
func (pg *Pager) voiceTwiML(st escState) string {
	action := pg.PublicURL + VoicePath + "?code=" + url.QueryEscape(st.Ack)
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString(`<Response><Gather numDigits="1" timeout="15" method="POST" action="`)
	_ = xml.EscapeText(&b, []byte(action))
	b.WriteString(`"><Say>`)
	_ = xml.EscapeText(&b, []byte(fmt.Sprintf("This is tipline. A %s tip for %s needs a reviewer now. Tip code %s. Press 1 to acknowledge.",
		st.Urgency, st.Org, spell(st.Code))))
	b.WriteString(`</Say></Gather><Say>No key was pressed. tipline will keep paging.</Say></Response>`)
	return b.String()
}

// spell spaces out a code so a voice reads it letter by letter.
func spell(code string) string {
	return strings.Join(strings.Split(code, ""), " ")
}

// VoiceAck answers a page call's keypress with TwiML. to is the number
// that was called; code comes from the callback URL.
func (pg *Pager) VoiceAck(ctx context.Context, code, to, digits string) (string, error) {
	say := func(s string) string {
		var b strings.Builder
		b.WriteString(xml.Header + "<Response><Say>")
		_ = xml.EscapeText(&b, []byte(s))
		b.WriteString("</Say></Response>")
		return b.String()
	}
	if digits != "1" {
		return say("No acknowledgement. tipline will keep paging."), nil
	}
	_, _, first, err := pg.ackCode(ctx, code, to, ViaVoice)
	switch {
	case errors.Is(err, ErrNoPage):
		return say("This page is not open any more."), nil
	case err != nil:
		return "", err
	case first != "":
		return say("Already acknowledged by " + first + ". Thank you."), nil
	}
	return say("Acknowledged. Paging has stopped. Open the dashboard for the tip."), nil
}
