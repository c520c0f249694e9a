package intake

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Key rotation: `tipline keys rotate` re-seals with the keyring's sealing
// key (the first of TIPLINE_KEYS, the newest) every value an older key
// sealed, so the older key can then be removed. It walks every key rather
// than a list of known ones, so that what any stage seals (tip fields,
// messages, notes, images, SMS phone numbers, and whatever comes later) is
// found: a sealed value is recognised by the key ID before its first ':',
// and opened with the binding it was sealed under, which is always the
// tip's ID, the key's name, or one of those with the field's name.

// Rotation says what a rotation found.
type Rotation struct {
	Resealed int // values re-sealed with the newest key
	Current  int // values already sealed with it
	// Unopened are values that name a known key but open under no binding
	// tried: left as they were, and named by key so an admin can look.
	Unopened []string
}

// Rotate re-seals every value sealed with an older key. It may run while
// tipline serves: each Redis key is rewritten in a WATCH transaction, so a
// concurrent write makes that key's rewrite start over rather than be lost.
// Running it again finds nothing more to do.
func (s *Store) Rotate(ctx context.Context) (Rotation, error) {
	var rot Rotation
	var cursor uint64
	for {
		keys, next, err := s.rdb.Scan(ctx, cursor, "*", scanBatch).Result()
		if err != nil {
			return rot, fmt.Errorf("intake: rotate: scan: %w", err)
		}
		for _, k := range keys {
			if strings.HasPrefix(k, "asynq:") {
				continue // task payloads carry IDs, never sealed values
			}
			if err := s.rotateKey(ctx, k, &rot); err != nil {
				return rot, err
			}
		}
		if cursor = next; cursor == 0 {
			return rot, nil
		}
	}
}

// rotateKey re-seals the values of one Redis key, retrying when a
// concurrent write gets there first.
func (s *Store) rotateKey(ctx context.Context, key string, rot *Rotation) error {
	for range 10 {
		var found Rotation
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			found = Rotation{}
			typ, err := tx.Type(ctx, key).Result()
			if err != nil {
				return err
			}
			switch typ {
			case "hash":
				return s.rotateHash(ctx, tx, key, &found)
			case "list":
				return s.rotateList(ctx, tx, key, &found)
			case "string":
				return s.rotateString(ctx, tx, key, &found)
			}
			return nil
		}, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return fmt.Errorf("intake: rotate %s: %w", key, err)
		}
		rot.Resealed += found.Resealed
		rot.Current += found.Current
		rot.Unopened = append(rot.Unopened, found.Unopened...)
		return nil
	}
	return fmt.Errorf("intake: rotate %s: changed ten times during rotation", key)
}

func (s *Store) rotateHash(ctx context.Context, tx *redis.Tx, key string, rot *Rotation) error {
	h, err := tx.HGetAll(ctx, key).Result()
	if err != nil {
		return err
	}
	var set []any
	for f, v := range h {
		nv, ok := s.reseal(key, f, v, rot)
		if ok {
			set = append(set, f, nv)
		}
	}
	if len(set) == 0 {
		return nil
	}
	_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, set...)
		return nil
	})
	return err
}

func (s *Store) rotateList(ctx context.Context, tx *redis.Tx, key string, rot *Rotation) error {
	items, err := tx.LRange(ctx, key, 0, -1).Result()
	if err != nil {
		return err
	}
	changed := map[int]string{}
	for i, item := range items {
		if nv, ok := s.reseal(key, "", item, rot); ok {
			changed[i] = nv
			continue
		}
		// A JSON record (a message, a note) with sealed strings inside:
		// replace each as it is written, leaving the rest byte for byte.
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(item), &m) != nil {
			continue
		}
		out := item
		for f, raw := range m {
			var v string
			if json.Unmarshal(raw, &v) != nil {
				continue
			}
			if nv, ok := s.reseal(key, f, v, rot); ok {
				newRaw, _ := json.Marshal(nv)
				out = strings.Replace(out, string(raw), string(newRaw), 1)
			}
		}
		if out != item {
			changed[i] = out
		}
	}
	if len(changed) == 0 {
		return nil
	}
	_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, v := range changed {
			p.LSet(ctx, key, int64(i), v)
		}
		return nil
	})
	return err
}

func (s *Store) rotateString(ctx context.Context, tx *redis.Tx, key string, rot *Rotation) error {
	v, err := tx.Get(ctx, key).Result()
	if err != nil {
		return err
	}
	nv, ok := s.reseal(key, "", v, rot)
	if !ok {
		return nil
	}
	_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SetArgs(ctx, key, nv, redis.SetArgs{KeepTTL: true})
		return nil
	})
	return err
}

// reseal returns v sealed with the newest key, if an older key sealed it.
func (s *Store) reseal(key, field, v string, rot *Rotation) (string, bool) {
	k := s.keys
	id, rest, ok := strings.Cut(v, ":")
	if !ok {
		return "", false
	}
	aead, known := k.open[id]
	if !known {
		return "", false
	}
	if id == k.sealID {
		rot.Current++
		return "", false
	}
	// Text is base64 after the key ID (Seal); images are raw (SealBytes).
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	text := err == nil
	if !text {
		raw = []byte(rest)
	}
	for _, b := range bindings(key, field) {
		pt, err := openRaw(aead, raw, b)
		if err != nil {
			continue
		}
		rot.Resealed++
		if text {
			return k.Seal(string(pt), b), true
		}
		return string(k.SealBytes(pt, b)), true
	}
	if text {
		// Raw bytes may happen to be valid base64: try them as SealBytes.
		for _, b := range bindings(key, field) {
			if pt, err := openRaw(aead, []byte(rest), b); err == nil {
				rot.Resealed++
				return string(k.SealBytes(pt, b)), true
			}
		}
	}
	rot.Unopened = append(rot.Unopened, key)
	return "", false
}

// bindings are what a value of field in key may have been sealed to: the
// ID in the key's hash tag ("tip:{ID}:msgs"), the key itself, and its
// last part ("sms:conv:HASH" gives HASH), each also with the field's name.
func bindings(key, field string) []string {
	var base []string
	if id := tipIDOfKey(key); id != "" {
		base = append(base, id)
	}
	base = append(base, key)
	if i := strings.LastIndexByte(key, ':'); i >= 0 && i+1 < len(key) {
		base = append(base, key[i+1:])
	}
	out := append([]string(nil), base...)
	if field != "" {
		for _, b := range base {
			out = append(out, b+":"+field)
		}
	}
	return out
}
