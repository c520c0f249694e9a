package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tipline/tipline/intake/timeline"
)

// ErrNotFound means no tip answers to the ID or token asked for.
var ErrNotFound = errors.New("intake: not found")

// Key names, all in one place. The tip ID sits in braces so that a tip's
// keys share one Redis Cluster slot.
func keyTip(id string) string      { return "tip:{" + id + "}" }
func keyMessages(id string) string { return "tip:{" + id + "}:msgs" }
func keyToken(hash string) string  { return "token:" + hash }

// keyImage is the nth image (from 1) of a tip. Each image has its own key
// so the dashboard can load one without the others.
func keyImage(id string, n int) string { return "tip:{" + id + "}:img:" + strconv.Itoa(n) }

// keyReceived orders the tips not yet triaged by arrival, for the sweeper.
const keyReceived = "tips:received"

// keyTeamTips orders the tips routed to a team by arrival: the dashboard's
// queue reads it, so a reviewer's list never scans other teams' tips.
func keyTeamTips(team string) string { return "tips:team:" + team }

// purposeToken separates token hashes from other keyed hashes.
const purposeToken = "token"

// Store keeps tips in Redis, their text sealed with the keyring.
type Store struct {
	rdb      redis.UniversalClient
	keys     *Keyring
	timeline *timeline.Log
}

// NewStore returns a store on rdb that seals text with keys.
func NewStore(rdb redis.UniversalClient, keys *Keyring) *Store {
	return &Store{rdb: rdb, keys: keys, timeline: timeline.New(rdb)}
}

// Ping tells whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.rdb.Ping(ctx).Err()
}

// sealedFields are the tip fields that hold what a reporter wrote.
var sealedFields = []string{"body", "location", "when", "subject", "contact"}

func (s *Store) textFields(t *Tip) []*string {
	return []*string{&t.Body, &t.Location, &t.When, &t.Subject, &t.Contact}
}

// create stores a new tip, its images and its token hash in one
// transaction: either all are there or none is.
func (s *Store) create(ctx context.Context, t *Tip, token Token, images []Image) error {
	fields := map[string]any{
		"images":      strconv.Itoa(len(images)),
		"received_at": t.ReceivedAt.UTC().Format(time.RFC3339Nano),
		"channel":     string(t.Channel),
		"org":         t.Org,
		"category":    t.Category,
		"danger":      strconv.FormatBool(t.Danger),
		"status":      string(t.Status),
	}
	for i, p := range s.textFields(t) {
		fields[sealedFields[i]] = s.keys.Seal(*p, t.ID)
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keyTip(t.ID), fields)
		for i, img := range images {
			// Sealed raw, bound to the image's own key: an image can
			// neither move to another tip nor change places.
			p.Set(ctx, keyImage(t.ID, i+1), s.keys.SealBytes(img.Data, keyImage(t.ID, i+1)), 0)
		}
		p.Set(ctx, keyToken(s.keys.Hash(purposeToken, string(token))), t.ID, 0)
		p.ZAdd(ctx, keyReceived, redis.Z{Score: float64(t.ReceivedAt.UnixMilli()), Member: t.ID})
		return s.timeline.AddTo(ctx, p, t.ID, timeline.Event{At: t.ReceivedAt, Kind: timeline.Received, Actor: "tipline", Detail: string(t.Channel)})
	})
	if err != nil {
		return fmt.Errorf("intake: save tip: %w", err)
	}
	return nil
}

// Tip loads a tip with its text decrypted.
func (s *Store) Tip(ctx context.Context, id string) (*Tip, error) {
	h, err := s.rdb.HGetAll(ctx, keyTip(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("intake: load tip: %w", err)
	}
	if len(h) == 0 {
		return nil, ErrNotFound
	}
	return s.tipFromHash(id, h)
}

// tipFromHash reads a tip from its stored hash, opening its text: Tip
// loads one, and the reviewers' queue many in one round trip.
func (s *Store) tipFromHash(id string, h map[string]string) (*Tip, error) {
	var err error
	t := &Tip{
		ID:       id,
		Channel:  Channel(h["channel"]),
		Org:      h["org"],
		Category: h["category"],
		Danger:   h["danger"] == "true",
		Status:   Status(h["status"]),
		Urgency:  h["urgency"],
		Team:     h["team"],
		Cluster:  h["cluster"],
		Rated:    h["rated_category"],
	}
	if v := h["teams"]; v != "" {
		t.Teams = strings.Split(v, ",")
	}
	if t.ReceivedAt, err = time.Parse(time.RFC3339Nano, h["received_at"]); err != nil {
		return nil, fmt.Errorf("intake: load tip %s: received_at: %w", id, err)
	}
	if v := h["images"]; v != "" {
		if t.Images, err = strconv.Atoi(v); err != nil || t.Images < 0 {
			return nil, fmt.Errorf("intake: load tip %s: images: %q is not a count", id, v)
		}
	}
	if v := h["assigned_at"]; v != "" {
		if t.Assigned, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return nil, fmt.Errorf("intake: load tip %s: assigned_at: %w", id, err)
		}
	}
	if v := h["reasons"]; v != "" {
		if err := json.Unmarshal([]byte(v), &t.Reasons); err != nil {
			return nil, fmt.Errorf("intake: load tip %s: reasons: %w", id, err)
		}
	}
	for i, p := range s.textFields(t) {
		if *p, err = s.keys.Open(h[sealedFields[i]], id); err != nil {
			return nil, fmt.Errorf("intake: load tip %s: %s: %w", id, sealedFields[i], err)
		}
	}
	return t, nil
}

// Images returns a tip's images, decrypted, in the order they were sent:
// for reviewers only, never on a public route. A tip without images gives
// an empty list; an unknown tip gives ErrNotFound.
func (s *Store) Images(ctx context.Context, id string) ([]Image, error) {
	n, err := s.imageCount(ctx, id)
	if err != nil {
		return nil, err
	}
	cmds := make([]*redis.StringCmd, n)
	if n > 0 {
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range cmds {
				cmds[i] = p.Get(ctx, keyImage(id, i+1))
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("intake: images of %s: %w", id, err)
		}
	}
	out := make([]Image, 0, n)
	for i, c := range cmds {
		img, err := s.openImage(id, i+1, c)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// Image returns the nth image (from 1) of a tip, decrypted, so that the
// dashboard can serve each image on its own. A tip or image that does not
// exist gives ErrNotFound.
func (s *Store) Image(ctx context.Context, id string, n int) (Image, error) {
	count, err := s.imageCount(ctx, id)
	if err != nil {
		return Image{}, err
	}
	if n < 1 || n > count {
		return Image{}, ErrNotFound
	}
	return s.openImage(id, n, s.rdb.Get(ctx, keyImage(id, n)))
}

// imageCount is how many images a tip has, or ErrNotFound if there is no
// such tip. received_at is on every tip; "images" is missing on tips stored
// before images were taken, which have none.
func (s *Store) imageCount(ctx context.Context, id string) (int, error) {
	v, err := s.rdb.HMGet(ctx, keyTip(id), "received_at", "images").Result()
	if err != nil {
		return 0, fmt.Errorf("intake: images of %s: %w", id, err)
	}
	if v[0] == nil {
		return 0, ErrNotFound
	}
	if v[1] == nil {
		return 0, nil
	}
	str, _ := v[1].(string)
	n, err := strconv.Atoi(str)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("intake: images of %s: %q is not a count", id, str)
	}
	return n, nil
}

// openImage decrypts one stored image. Its type is read from its content,
// which tipline's own encoder wrote.
func (s *Store) openImage(id string, n int, c *redis.StringCmd) (Image, error) {
	sealed, err := c.Bytes()
	if errors.Is(err, redis.Nil) {
		// The count says it exists: the tip is damaged, not absent.
		return Image{}, fmt.Errorf("intake: image %d of %s is missing", n, id)
	}
	if err != nil {
		return Image{}, fmt.Errorf("intake: image %d of %s: %w", n, id, err)
	}
	data, err := s.keys.OpenBytes(sealed, keyImage(id, n))
	if err != nil {
		return Image{}, fmt.Errorf("intake: image %d of %s: %w", n, id, err)
	}
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return Image{ContentType: contentTypeJPEG, Data: data}, nil
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return Image{ContentType: contentTypePNG, Data: data}, nil
	}
	return Image{}, fmt.Errorf("intake: image %d of %s: neither JPEG nor PNG", n, id)
}

// tipIDForToken finds the tip a token belongs to. It hashes whatever it is
// given, so a malformed token costs the same as a wrong one.
func (s *Store) tipIDForToken(ctx context.Context, token string) (string, error) {
	id, err := s.rdb.Get(ctx, keyToken(s.keys.Hash(purposeToken, token))).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("intake: find token: %w", err)
	}
	return id, nil
}

// Triage is what triage decided about a tip.
type Triage struct {
	Urgency  string
	Category string   // the category triage rated, which may differ from the reporter's
	Teams    []string // every team the tip was routed to, the first its owner
	Cluster  string
	Reasons  []Reason
	At       time.Time
}

// SetTriage records triage's result and moves a received tip to assigned.
// A tip that has moved on keeps its status: triage may run twice.
func (s *Store) SetTriage(ctx context.Context, id string, received time.Time, r Triage) error {
	return s.SetTriages(ctx, []Triaged{{ID: id, Received: received, Triage: r}})
}

// Triaged is one tip's triage result, for SetTriages.
type Triaged struct {
	ID       string
	Received time.Time
	Triage
}

// SetTriages records the triage of several tips in one round trip, each as
// SetTriage does: a batch of routine tips pays for one, not one each.
func (s *Store) SetTriages(ctx context.Context, ts []Triaged) error {
	if len(ts) == 0 {
		return nil
	}
	reasons := make([]string, len(ts))
	for i, t := range ts {
		if len(t.Teams) == 0 {
			return fmt.Errorf("intake: set triage %s: no team", t.ID)
		}
		b, err := json.Marshal(t.Reasons)
		if err != nil {
			return fmt.Errorf("intake: set triage: %w", err)
		}
		reasons[i] = string(b)
	}
	// In this order, which matters on a Redis Cluster, where each slot's
	// part is its own transaction, run in the order the slots first
	// appear: every team's queue first (they point at tips that exist),
	// then each tip's own keys (one slot per tip: its fields, status and
	// timeline together), and, only once all that is written, the
	// sweeper's list. A failure part way leaves tips "received" and in the
	// sweeper's list, and triage runs again; never a triaged tip missing
	// from its queue.
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, t := range ts {
			for _, team := range t.Teams {
				p.ZAdd(ctx, keyTeamTips(team), redis.Z{Score: float64(t.Received.UnixMilli()), Member: t.ID})
			}
		}
		for i, t := range ts {
			p.HSet(ctx, keyTip(t.ID),
				"urgency", t.Urgency, "rated_category", t.Category, "team", t.Teams[0],
				"teams", strings.Join(t.Teams, ","), "cluster", t.Cluster,
				"reasons", reasons[i], "assigned_at", t.At.UTC().Format(time.RFC3339Nano))
			// Only a tip still in "received" moves to "assigned"; HSETNX
			// cannot compare, so a tiny script does it, in the same
			// transaction: a worker killed between the two would leave a
			// triaged tip in "received", and the task's rerun would triage
			// it again.
			setStatusIf.Eval(ctx, p, []string{keyTip(t.ID)}, string(StatusReceived), string(StatusAssigned))
			if err := s.timeline.AddTo(ctx, p, t.ID, timeline.Event{At: t.At, Kind: timeline.Triaged, Actor: "tipline",
				Team: t.Teams[0], Detail: t.Urgency + " " + t.Category + " to " + strings.Join(t.Teams, ", ")}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("intake: set triage: %w", err)
	}
	// A round trip of its own: in one transaction with the rest, a Redis
	// Cluster could run it in an earlier slot's part than a tip's.
	done := make([]any, len(ts))
	for i, t := range ts {
		done[i] = t.ID
	}
	if err := s.rdb.ZRem(ctx, keyReceived, done...).Err(); err != nil {
		return fmt.Errorf("intake: set triage: %w", err)
	}
	return nil
}

var setStatusIf = redis.NewScript(`
if redis.call("HGET", KEYS[1], "status") == ARGV[1] then
  return redis.call("HSET", KEYS[1], "status", ARGV[2])
end
return 0`)

// Received lists the IDs of tips still waiting for triage that arrived
// before the given time, oldest first.
func (s *Store) Received(ctx context.Context, before time.Time, limit int64) ([]string, error) {
	ids, err := s.rdb.ZRangeByScore(ctx, keyReceived, &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(before.UnixMilli(), 10), Count: limit,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("intake: list received: %w", err)
	}
	return ids, nil
}

// storedMessage is a message as kept in Redis, its text sealed.
type storedMessage struct {
	From Sender `json:"from"`
	Body string `json:"body"`
	At   int64  `json:"at"` // Unix milliseconds
}

// addImages appends cleaned images to a stored tip, numbered after those it
// has: HINCRBY hands each caller its own numbers, so two texts arriving at
// once cannot overwrite each other's pictures.
func (s *Store) addImages(ctx context.Context, id string, images []Image) error {
	if len(images) == 0 {
		return nil
	}
	n, err := s.rdb.HIncrBy(ctx, keyTip(id), "images", int64(len(images))).Result()
	if err != nil {
		return fmt.Errorf("intake: add images: %w", err)
	}
	first := int(n) - len(images) + 1
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, img := range images {
			k := keyImage(id, first+i)
			p.Set(ctx, k, s.keys.SealBytes(img.Data, k), 0)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("intake: add images: %w", err)
	}
	return nil
}

// AddMessage appends a message to a tip's conversation.
func (s *Store) AddMessage(ctx context.Context, id string, m Message) error {
	_, err := s.addMessage(ctx, id, m)
	return err
}

// addMessage appends a message and returns how many the conversation holds.
// A reporter's message goes on the tip's timeline with it (never its
// text); a reviewer's is put there by the dashboard, which knows who wrote.
func (s *Store) addMessage(ctx context.Context, id string, m Message) (int, error) {
	b, err := json.Marshal(storedMessage{From: m.From, Body: s.keys.Seal(m.Body, id), At: m.At.UnixMilli()})
	if err != nil {
		return 0, fmt.Errorf("intake: add message: %w", err)
	}
	var n *redis.IntCmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.RPush(ctx, keyMessages(id), b)
		if m.From != FromReporter {
			return nil
		}
		return s.timeline.AddTo(ctx, p, id, timeline.Event{At: m.At, Kind: timeline.Message, Actor: "reporter", Detail: "from the reporter"})
	})
	if err != nil {
		return 0, fmt.Errorf("intake: add message: %w", err)
	}
	return int(n.Val()), nil
}

// Messages returns a tip's conversation, oldest first.
func (s *Store) Messages(ctx context.Context, id string) ([]Message, error) {
	raw, err := s.rdb.LRange(ctx, keyMessages(id), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("intake: messages: %w", err)
	}
	out := make([]Message, 0, len(raw))
	for _, r := range raw {
		var sm storedMessage
		if err := json.Unmarshal([]byte(r), &sm); err != nil {
			return nil, fmt.Errorf("intake: messages of %s: %w", id, err)
		}
		body, err := s.keys.Open(sm.Body, id)
		if err != nil {
			return nil, fmt.Errorf("intake: messages of %s: %w", id, err)
		}
		out = append(out, Message{From: sm.From, Body: body, At: time.UnixMilli(sm.At).UTC()})
	}
	return out, nil
}

// ClusterOf returns the cluster triage put a tip in, or "" before triage.
func (s *Store) ClusterOf(ctx context.Context, id string) (string, error) {
	c, err := s.rdb.HGet(ctx, keyTip(id), "cluster").Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("intake: cluster of %s: %w", id, err)
	}
	return c, nil
}
