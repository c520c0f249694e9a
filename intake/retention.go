package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Retention: a closed tip is kept for a configured time, then every trace of
// it is deleted: its hash, text, messages, notes, images and timeline, its
// token's hash, its place in the team queues, the SMS conversation that
// holds the reporter's sealed number, and (through Forget hooks) what other
// stages keep about it. A purged tip answers like one that never existed.

// PurgedTip is what the other stages are told about a tip being purged:
// the fields they index it by, never its text.
type PurgedTip struct {
	ID      string
	Org     string
	Cluster string
	Teams   []string
}

// Forget deletes what another stage keeps about a purged tip (triage's
// cluster membership, for one). It must be idempotent: a purge that fails
// half-way runs again.
type Forget func(ctx context.Context, t PurgedTip) error

// Retention purges tips closed more than a set time ago.
type Retention struct {
	store  *Store
	after  time.Duration
	forget []Forget
	log    *slog.Logger
}

// NewRetention returns a retention that purges tips closed more than after
// ago, calling forget for each before its own keys go.
func NewRetention(store *Store, after time.Duration, log *slog.Logger, forget ...Forget) *Retention {
	return &Retention{store: store, after: after, forget: forget, log: log}
}

// scanBatch is how many keys one SCAN call asks for.
const scanBatch = 1000

// Purge deletes every tip closed before now minus the retention time and
// says how many went. It reads no sealed value, so it works with any keys.
//
// It walks the key space twice: once for closed tips, once for the keys
// that belong to them (everything under the tip's hash tag, and its token,
// whose keyed hash only the reporter's token can produce). A walk costs a
// second or so per million keys; the task runs a few times a day.
func (r *Retention) Purge(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.Add(-r.after)
	doomed, err := r.closedBefore(ctx, cutoff)
	if err != nil || len(doomed) == 0 {
		return 0, err
	}
	for _, t := range doomed {
		for _, f := range r.forget {
			if err := f(ctx, t.PurgedTip); err != nil {
				return 0, fmt.Errorf("intake: purge %s: %w", t.ID, err)
			}
		}
	}
	byID := make(map[string]*closedTip, len(doomed))
	for _, t := range doomed {
		byID[t.ID] = t
	}
	if err := r.collectKeys(ctx, byID); err != nil {
		return 0, err
	}
	rdb := r.store.rdb
	for _, t := range doomed {
		_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.ZRem(ctx, keyReceived, t.ID)
			for _, team := range t.Teams {
				p.ZRem(ctx, keyTeamTips(team), t.ID)
			}
			if len(t.keys) > 0 {
				p.Del(ctx, t.keys...)
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("intake: purge %s: %w", t.ID, err)
		}
		if t.sms != "" {
			// The conversation (and the sealed number in it) goes only if
			// it is still this tip's: the phone may have opened another.
			if err := delIfField.Run(ctx, rdb, []string{keySMSConv(t.sms)}, "tip", t.ID).Err(); err != nil && !errors.Is(err, redis.Nil) {
				return 0, fmt.Errorf("intake: purge %s: sms: %w", t.ID, err)
			}
		}
	}
	return len(doomed), nil
}

var delIfField = redis.NewScript(`
if redis.call("HGET", KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call("DEL", KEYS[1])
end
return 0`)

// closedTip is a tip to purge and the keys found for it.
type closedTip struct {
	PurgedTip
	sms  string // the keyed hash of an SMS reporter's phone
	keys []string
}

// closedBefore finds the tips closed before cutoff. A closed tip without a
// closed_at (closed before the field existed, or by hand) is kept: it
// cannot be said to be old enough.
func (r *Retention) closedBefore(ctx context.Context, cutoff time.Time) ([]*closedTip, error) {
	rdb := r.store.rdb
	var out []*closedTip
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, "tip:{*}", scanBatch).Result()
		if err != nil {
			return nil, fmt.Errorf("intake: purge: scan: %w", err)
		}
		cmds := make([]*redis.SliceCmd, len(keys))
		_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.HMGet(ctx, k, "status", fieldClosedAt, "org", "cluster", "teams", "sms")
			}
			return nil
		})
		if err != nil && !isWrongType(err) {
			return nil, fmt.Errorf("intake: purge: %w", err)
		}
		for i, k := range keys {
			v, err := cmds[i].Result()
			if err != nil || len(v) != 6 {
				continue // not a tip hash
			}
			str := func(j int) string { s, _ := v[j].(string); return s }
			if Status(str(0)) != StatusClosed {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, str(1))
			if err != nil || !at.Before(cutoff) {
				continue
			}
			t := &closedTip{PurgedTip: PurgedTip{ID: tipIDOfKey(k), Org: str(2), Cluster: str(3)}, sms: str(5)}
			if s := str(4); s != "" {
				t.Teams = strings.Split(s, ",")
			}
			out = append(out, t)
		}
		if cursor = next; cursor == 0 {
			return out, nil
		}
	}
}

func isWrongType(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE") }

// tipIDOfKey is the ID in a key's hash tag: "tip:{ID}:msgs" gives "ID".
func tipIDOfKey(k string) string {
	i := strings.IndexByte(k, '{')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(k[i:], '}')
	if j < 0 {
		return ""
	}
	return k[i+1 : i+j]
}

// collectKeys finds every key of the doomed tips: each key whose hash tag
// is the tip's ID (its hash, messages, notes, images, timeline, page log,
// texts sent; whatever a stage adds later under the tag), and its token.
func (r *Retention) collectKeys(ctx context.Context, byID map[string]*closedTip) error {
	rdb := r.store.rdb
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, "*", scanBatch).Result()
		if err != nil {
			return fmt.Errorf("intake: purge: scan: %w", err)
		}
		var tokens []string
		for _, k := range keys {
			switch {
			case strings.HasPrefix(k, "asynq:"):
				// asynq's own keys tag queues, not tips.
			case strings.HasPrefix(k, "token:"):
				tokens = append(tokens, k)
			default:
				if t, ok := byID[tipIDOfKey(k)]; ok {
					t.keys = append(t.keys, k)
				}
			}
		}
		if len(tokens) > 0 {
			ids, err := rdb.MGet(ctx, tokens...).Result()
			if err != nil {
				return fmt.Errorf("intake: purge: tokens: %w", err)
			}
			for i, v := range ids {
				id, _ := v.(string)
				if t, ok := byID[id]; ok {
					t.keys = append(t.keys, tokens[i])
				}
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// Run purges every interval until ctx ends. Several workers may run it at
// once: deleting what is gone already is harmless.
func (r *Retention) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if n, err := r.Purge(ctx, time.Now()); err != nil {
			if ctx.Err() == nil {
				r.log.Warn("retention purge failed", "err", err)
			}
		} else if n > 0 {
			r.log.Info("purged closed tips past retention", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
