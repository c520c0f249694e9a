package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tipline/tipline/intake/timeline"
)

// The reviewers' side of the store: the team queues, the case record of a
// tip (assignee, internal notes, outcome and referrals), and the facts the
// program figures count. Every change lands on the tip's timeline in the
// same transaction as the change itself.

// keyNotes is a tip's internal notes, each sealed: reviewers write about
// people, and that is as sensitive as what the reporter wrote.
func keyNotes(id string) string { return "tip:{" + id + "}:notes" }

// Fields of the tip hash that the reviewers' side writes.
const (
	fieldAssignee    = "assignee"
	fieldOutcome     = "outcome"
	fieldOutcomeNote = "outcome_note" // sealed
	fieldReferrals   = "referrals"    // comma-separated referral IDs
	fieldClosedAt    = "closed_at"
)

// Choice is one entry of a closed list a reviewer picks from.
type Choice struct {
	ID   string
	Name string
}

// Outcomes are how a closed tip ended. A closed list, so the figures can
// count them; the outcome note says the rest.
var Outcomes = []Choice{
	{"no_concern", "No concern"},
	{"support_plan", "Support plan"},
	{"referred", "Referred"},
	{"law_enforcement", "Law enforcement"},
	{"unfounded", "Unfounded"},
	{"duplicate", "Duplicate of another report"},
}

// ReferralTypes are the kinds of referral DHS's BTAM guidance asks programs
// to count.
var ReferralTypes = []Choice{
	{"mental_health", "Mental health"},
	{"social_services", "Social services"},
	{"housing", "Housing"},
	{"job_training", "Job training"},
	{"faith_based", "Faith-based"},
	{"law_enforcement", "Law enforcement"},
	{"other", "Other"},
}

func choiceKnown(list []Choice, id string) bool {
	return slices.ContainsFunc(list, func(c Choice) bool { return c.ID == id })
}

// Limits of what reviewers write.
var (
	fieldNote         = field{name: "note", label: "Note", required: true, max: 5000}
	fieldOutcomeText  = field{name: "outcome_note", label: "Outcome note", max: 1000}
	fieldAssigneeName = field{name: "assignee", label: "Assignee", required: true, max: 200, oneLine: true}
)

// ErrBadChange is a change a tip cannot take: an unknown status, outcome
// or referral type. It names the value, which came from a closed list.
var ErrBadChange = errors.New("intake: change not allowed")

// TipFilter narrows a team queue. Zero fields match everything.
type TipFilter struct {
	Statuses []Status // any of these
	Category string   // the rated category, or the reporter's before triage
	From, To time.Time
	Limit    int // the most tips returned, newest first; 0 is maxTeamTips
}

// maxTeamTips bounds how many tips one listing returns.
const maxTeamTips = 1000

// teamTipIDs lists the IDs of tips routed to any of teams and received in
// [from, to), newest first, each once.
func (s *Store) teamTipIDs(ctx context.Context, teams []string, from, to time.Time, limit int) ([]string, error) {
	rng := &redis.ZRangeBy{Min: "-inf", Max: "+inf", Count: int64(limit)}
	if !from.IsZero() {
		rng.Min = strconv.FormatInt(from.UnixMilli(), 10)
	}
	if !to.IsZero() {
		rng.Max = "(" + strconv.FormatInt(to.UnixMilli(), 10)
	}
	cmds := make([]*redis.ZSliceCmd, len(teams))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, team := range teams {
			cmds[i] = p.ZRevRangeByScoreWithScores(ctx, keyTeamTips(team), rng)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("intake: team tips: %w", err)
	}
	seen := map[string]bool{}
	var all []redis.Z
	for _, c := range cmds {
		for _, z := range c.Val() {
			id, _ := z.Member.(string)
			if !seen[id] {
				seen[id] = true
				all = append(all, z)
			}
		}
	}
	slices.SortStableFunc(all, func(a, b redis.Z) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Member.(string), b.Member.(string))
	})
	ids := make([]string, len(all))
	for i, z := range all {
		ids[i] = z.Member.(string)
	}
	return ids, nil
}

// TeamTips lists the tips routed to any of teams that pass the filter,
// newest first. It reads only those teams' indexes, so a reviewer's list
// never touches another team's tips. The filter is applied to every tip of
// the index, a batch at a time and reading only the fields it needs, so an
// open tip is listed however many closed ones arrived after it; only the
// tips listed are loaded and opened.
func (s *Store) TeamTips(ctx context.Context, teams []string, f TipFilter) ([]*Tip, error) {
	limit := f.Limit
	if limit <= 0 || limit > maxTeamTips {
		limit = maxTeamTips
	}
	ids, err := s.teamTipIDs(ctx, teams, f.From, f.To, -1)
	if err != nil {
		return nil, err
	}
	var matched []string
	const batch = 500
	for start := 0; start < len(ids) && len(matched) < limit; start += batch {
		part := ids[start:min(start+batch, len(ids))]
		cmds := make([]*redis.SliceCmd, len(part))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range part {
				cmds[i] = p.HMGet(ctx, keyTip(id), "status", "rated_category", "category")
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("intake: team tips: %w", err)
		}
		for i, c := range cmds {
			v := c.Val()
			status, _ := v[0].(string)
			rated, _ := v[1].(string)
			if rated == "" {
				rated, _ = v[2].(string)
			}
			if status == "" || // purged
				(len(f.Statuses) > 0 && !slices.Contains(f.Statuses, Status(status))) ||
				(f.Category != "" && rated != f.Category) {
				continue
			}
			matched = append(matched, part[i])
			if len(matched) == limit {
				break
			}
		}
	}
	return s.TipsByID(ctx, matched)
}

// TipsByID loads tips in one round trip, in the order asked, skipping any
// that no longer exist (purged after closing).
func (s *Store) TipsByID(ctx context.Context, ids []string) ([]*Tip, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, keyTip(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("intake: load tips: %w", err)
	}
	out := make([]*Tip, 0, len(ids))
	for i, c := range cmds {
		if len(c.Val()) == 0 {
			continue
		}
		t, err := s.tipFromHash(ids[i], c.Val())
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// RatedCategory is the category triage gave a tip, or the reporter's
// before triage has run.
func (t *Tip) RatedCategory() string {
	if t.Rated != "" {
		return t.Rated
	}
	return t.Category
}

// Case is the team's record of a tip, beside what the reporter sent.
type Case struct {
	Assignee    string // the reviewer's name, if one was assigned
	Outcome     string // one of Outcomes, once closed
	OutcomeNote string
	Referrals   []string // IDs of ReferralTypes
	ClosedAt    time.Time
}

// Case returns the team's record of a tip.
func (s *Store) Case(ctx context.Context, id string) (Case, error) {
	v, err := s.rdb.HMGet(ctx, keyTip(id), "received_at", fieldAssignee, fieldOutcome, fieldOutcomeNote, fieldReferrals, fieldClosedAt).Result()
	if err != nil {
		return Case{}, fmt.Errorf("intake: case %s: %w", id, err)
	}
	if v[0] == nil {
		return Case{}, ErrNotFound
	}
	str := func(i int) string { s, _ := v[i].(string); return s }
	c := Case{Assignee: str(1), Outcome: str(2)}
	if n := str(3); n != "" {
		if c.OutcomeNote, err = s.keys.Open(n, id+":"+fieldOutcomeNote); err != nil {
			return Case{}, fmt.Errorf("intake: case %s: outcome note: %w", id, err)
		}
	}
	if r := str(4); r != "" {
		c.Referrals = strings.Split(r, ",")
	}
	if at := str(5); at != "" {
		if c.ClosedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return Case{}, fmt.Errorf("intake: case %s: closed_at: %w", id, err)
		}
	}
	return c, nil
}

// Assignees returns the reviewer each tip is assigned to ("" for none), in
// the order of ids, in one round trip: the queue shows who carries what.
func (s *Store) Assignees(ctx context.Context, ids []string) ([]string, error) {
	cmds := make([]*redis.StringCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGet(ctx, keyTip(id), fieldAssignee)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("intake: assignees: %w", err)
	}
	out := make([]string, len(ids))
	for i, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("intake: assignees: %w", err)
		}
		out[i] = c.Val()
	}
	return out, nil
}

// Timeline returns what happened to a tip, oldest first.
func (s *Store) Timeline(ctx context.Context, id string) ([]timeline.Event, error) {
	return s.timeline.List(ctx, id)
}

// Record adds an event to a tip's timeline, for changes made elsewhere (a
// message sent through the SMS channel, an export).
func (s *Store) Record(ctx context.Context, id string, e timeline.Event) error {
	return s.timeline.Add(ctx, id, e)
}

// Note is an internal note on a tip: reviewers see it, reporters never.
type Note struct {
	Author string
	Body   string
	At     time.Time
}

type storedNote struct {
	Author string `json:"author"`
	Body   string `json:"body"` // sealed
	At     int64  `json:"at"`   // Unix milliseconds
}

// Notes returns a tip's internal notes, oldest first.
func (s *Store) Notes(ctx context.Context, id string) ([]Note, error) {
	raw, err := s.rdb.LRange(ctx, keyNotes(id), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("intake: notes: %w", err)
	}
	out := make([]Note, 0, len(raw))
	for _, r := range raw {
		var sn storedNote
		if err := json.Unmarshal([]byte(r), &sn); err != nil {
			return nil, fmt.Errorf("intake: notes of %s: %w", id, err)
		}
		body, err := s.keys.Open(sn.Body, keyNotes(id))
		if err != nil {
			return nil, fmt.Errorf("intake: notes of %s: %w", id, err)
		}
		out = append(out, Note{Author: sn.Author, Body: body, At: time.UnixMilli(sn.At).UTC()})
	}
	return out, nil
}

// exists is ErrNotFound for a tip that is not stored, so a change never
// creates half a tip.
func (s *Store) exists(ctx context.Context, id string) error {
	n, err := s.rdb.Exists(ctx, keyTip(id)).Result()
	if err != nil {
		return fmt.Errorf("intake: find tip: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// AddNote adds an internal note by author to a tip. The text is cleaned
// like a message and sealed; the timeline records only that a note was
// written, and by whom.
func (in *Intake) AddNote(ctx context.Context, id, author, body string) error {
	text, err := in.clean.clean(fieldNote, body)
	if err != nil {
		return err
	}
	s := in.store
	if err := s.exists(ctx, id); err != nil {
		return err
	}
	now := in.now().UTC()
	b, err := json.Marshal(storedNote{Author: author, Body: s.keys.Seal(text, keyNotes(id)), At: now.UnixMilli()})
	if err != nil {
		return fmt.Errorf("intake: add note: %w", err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, keyNotes(id), b)
		return s.timeline.AddTo(ctx, p, id, timeline.Event{At: now, Kind: timeline.Note, Actor: author})
	})
	if err != nil {
		return fmt.Errorf("intake: add note: %w", err)
	}
	return nil
}

// moveToReview moves a tip that nobody has taken up yet (received or
// assigned to a team) to in_review, on the timeline too, when a reviewer
// acknowledges it or is assigned to it. The reporter sees that someone is
// looking.
var moveToReview = redis.NewScript(`
local s = redis.call("HGET", KEYS[1], "status")
if s == ARGV[1] or s == ARGV[2] then
  redis.call("HSET", KEYS[1], "status", ARGV[3])
  redis.call("RPUSH", KEYS[2], ARGV[4])
  return 1
end
return 0`)

func (in *Intake) startReview(ctx context.Context, id, actor string, at time.Time) error {
	ev, err := json.Marshal(timeline.Event{At: at, Kind: timeline.Status, Actor: actor, Detail: string(StatusInReview)})
	if err != nil {
		return err
	}
	err = moveToReview.Run(ctx, in.store.rdb, []string{keyTip(id), timeline.Key(id)},
		string(StatusReceived), string(StatusAssigned), string(StatusInReview), string(ev)).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("intake: start review: %w", err)
	}
	return nil
}

// Acknowledge records that actor acknowledged a tip from the dashboard,
// unless an acknowledgement by actor is already on the timeline since
// since (the pager records its own when it stops escalating), and moves
// the tip to in_review if nobody had taken it up.
func (in *Intake) Acknowledge(ctx context.Context, id, actor string, since time.Time) error {
	s := in.store
	if err := s.exists(ctx, id); err != nil {
		return err
	}
	events, err := s.timeline.List(ctx, id)
	if err != nil {
		return err
	}
	recorded := slices.ContainsFunc(events, func(e timeline.Event) bool {
		return e.Kind == timeline.Acked && e.Actor == actor && !e.At.Before(since.Truncate(time.Millisecond))
	})
	now := in.now().UTC()
	if !recorded {
		if err := s.timeline.Add(ctx, id, timeline.Event{At: now, Kind: timeline.Acked, Actor: actor, Detail: "dashboard"}); err != nil {
			return err
		}
	}
	return in.startReview(ctx, id, actor, now)
}

// Assign makes assignee the reviewer who carries a tip.
func (in *Intake) Assign(ctx context.Context, id, assignee, actor string) error {
	name, err := in.clean.clean(fieldAssigneeName, assignee)
	if err != nil {
		return err
	}
	s := in.store
	if err := s.exists(ctx, id); err != nil {
		return err
	}
	now := in.now().UTC()
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keyTip(id), fieldAssignee, name)
		return s.timeline.AddTo(ctx, p, id, timeline.Event{At: now, Kind: timeline.Assigned, Actor: actor, Detail: name})
	})
	if err != nil {
		return fmt.Errorf("intake: assign: %w", err)
	}
	return in.startReview(ctx, id, actor, now)
}

// SetStatus moves a tip to assigned or in_review; closing takes an outcome
// (Close). Moving a closed tip back reopens it, and the timeline says so.
// A tip already in the status is left as it is.
func (in *Intake) SetStatus(ctx context.Context, id string, to Status, actor string) error {
	if to != StatusAssigned && to != StatusInReview {
		return fmt.Errorf("%w: status %q", ErrBadChange, to)
	}
	s := in.store
	from, err := s.rdb.HGet(ctx, keyTip(id), "status").Result()
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("intake: set status: %w", err)
	}
	if Status(from) == to {
		return nil
	}
	now := in.now().UTC()
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keyTip(id), "status", string(to))
		if Status(from) == StatusClosed {
			p.HDel(ctx, keyTip(id), fieldClosedAt)
			if err := s.timeline.AddTo(ctx, p, id, timeline.Event{At: now, Kind: timeline.Reopened, Actor: actor}); err != nil {
				return err
			}
		}
		return s.timeline.AddTo(ctx, p, id, timeline.Event{At: now, Kind: timeline.Status, Actor: actor, Detail: string(to)})
	})
	if err != nil {
		return fmt.Errorf("intake: set status: %w", err)
	}
	return nil
}

// Closing is how a team closes a tip.
type Closing struct {
	Outcome   string   // one of Outcomes
	Note      string   // free text, at most 1000 characters
	Referrals []string // IDs of ReferralTypes; repeats are taken once
}

// Close closes a tip with an outcome and the referrals made. Closing a
// closed tip again corrects its outcome; the timeline keeps both.
func (in *Intake) Close(ctx context.Context, id, actor string, c Closing) error {
	if !choiceKnown(Outcomes, c.Outcome) {
		return fmt.Errorf("%w: outcome %q", ErrBadChange, c.Outcome)
	}
	var refs []string
	for _, r := range c.Referrals {
		if !choiceKnown(ReferralTypes, r) {
			return fmt.Errorf("%w: referral %q", ErrBadChange, r)
		}
		if !slices.Contains(refs, r) {
			refs = append(refs, r)
		}
	}
	note, err := in.clean.clean(fieldOutcomeText, c.Note)
	if err != nil {
		return err
	}
	s := in.store
	if err := s.exists(ctx, id); err != nil {
		return err
	}
	now := in.now().UTC()
	detail := c.Outcome
	if len(refs) > 0 {
		detail += "; referrals: " + strings.Join(refs, ", ")
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keyTip(id), "status", string(StatusClosed), fieldOutcome, c.Outcome,
			fieldOutcomeNote, s.keys.Seal(note, id+":"+fieldOutcomeNote),
			fieldReferrals, strings.Join(refs, ","), fieldClosedAt, now.Format(time.RFC3339Nano))
		return s.timeline.AddTo(ctx, p, id, timeline.Event{At: now, Kind: timeline.Closed, Actor: actor, Detail: detail})
	})
	if err != nil {
		return fmt.Errorf("intake: close: %w", err)
	}
	return nil
}

// Facts are what the program figures count about one tip: no text a
// reporter or reviewer wrote, so computing them opens nothing sealed.
type Facts struct {
	ID         string
	ReceivedAt time.Time
	Org        string
	Teams      []string
	Urgency    string
	Category   string // rated, else the reporter's
	Status     Status
	Outcome    string
	Referrals  []string
	Events     []timeline.Event
	// Messages by side of the conversation.
	FromReporter, FromReviewer int
}

// Facts returns the facts of the tips routed to any of teams and received
// in [from, to), newest first.
func (s *Store) Facts(ctx context.Context, teams []string, from, to time.Time) ([]Facts, error) {
	ids, err := s.teamTipIDs(ctx, teams, from, to, -1)
	if err != nil {
		return nil, err
	}
	fields := []string{"received_at", "org", "teams", "urgency", "rated_category", "category", "status", fieldOutcome, fieldReferrals}
	type cmds struct {
		hash *redis.SliceCmd
		tl   *redis.StringSliceCmd
		msgs *redis.StringSliceCmd
	}
	out := make([]Facts, 0, len(ids))
	// In batches: a year of a district's tips is thousands, and one
	// pipeline of all of them would hold every reply in memory at once.
	const batch = 200
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		cs := make([]cmds, len(part))
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range part {
				cs[i] = cmds{
					hash: p.HMGet(ctx, keyTip(id), fields...),
					tl:   p.LRange(ctx, timeline.Key(id), 0, -1),
					msgs: p.LRange(ctx, keyMessages(id), 0, -1),
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("intake: facts: %w", err)
		}
		for i, id := range part {
			v := cs[i].hash.Val()
			if len(v) != len(fields) || v[0] == nil {
				continue // purged
			}
			str := func(i int) string { s, _ := v[i].(string); return s }
			f := Facts{ID: id, Org: str(1), Urgency: str(3), Category: str(4), Status: Status(str(6)), Outcome: str(7)}
			if f.Category == "" {
				f.Category = str(5)
			}
			if f.ReceivedAt, err = time.Parse(time.RFC3339Nano, str(0)); err != nil {
				return nil, fmt.Errorf("intake: facts of %s: received_at: %w", id, err)
			}
			if t := str(2); t != "" {
				f.Teams = strings.Split(t, ",")
			}
			if r := str(8); r != "" {
				f.Referrals = strings.Split(r, ",")
			}
			for _, raw := range cs[i].tl.Val() {
				var e timeline.Event
				if err := json.Unmarshal([]byte(raw), &e); err != nil {
					return nil, fmt.Errorf("intake: facts of %s: timeline: %w", id, err)
				}
				f.Events = append(f.Events, e)
			}
			for _, raw := range cs[i].msgs.Val() {
				var m struct {
					From Sender `json:"from"`
				}
				if err := json.Unmarshal([]byte(raw), &m); err != nil {
					return nil, fmt.Errorf("intake: facts of %s: messages: %w", id, err)
				}
				switch m.From {
				case FromReporter:
					f.FromReporter++
				case FromReviewer:
					f.FromReviewer++
				}
			}
			out = append(out, f)
		}
	}
	return out, nil
}
