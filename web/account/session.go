package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Session lifetimes: a session ends after IdleTimeout without a request,
// and after AbsoluteTimeout whatever happens. A setup session (temporary
// password, no TOTP yet) lives SetupTimeout at most.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	SetupTimeout    = 15 * time.Minute
)

// ErrNoSession means the session token is unknown, expired or ended, or
// its account is disabled.
var ErrNoSession = errors.New("account: no session")

// tokenBytes is a session token's length before encoding: 256 bits.
const tokenBytes = 32

// tokenEncoding writes tokens for a cookie.
var tokenEncoding = base64.RawURLEncoding

// Session is a signed-in reviewer's session.
type Session struct {
	Reviewer  *Reviewer
	Setup     bool // may only finish setting up the account
	CreatedAt time.Time
	SeenAt    time.Time
}

// StartSession starts a session for the reviewer and returns its token,
// for the cookie. Redis keeps only the token's keyed hash.
func (s *Store) StartSession(ctx context.Context, id string, setup bool) (string, error) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b)
	token := tokenEncoding.EncodeToString(b)
	h := s.keys.Hash(purposeSession, token)
	now := s.now().UnixMilli()
	life := AbsoluteTimeout
	if setup {
		life = SetupTimeout
	}
	// Forget ended sessions in the account's list while here, so it does
	// not grow for ever.
	old, err := s.rdb.SMembers(ctx, keySessions(id)).Result()
	if err != nil {
		return "", fmt.Errorf("account: start session: %w", err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keySession(h), "reviewer", id, "created", now, "seen", now, "setup", boolField(setup))
		p.Expire(ctx, keySession(h), min(IdleTimeout, life))
		p.SAdd(ctx, keySessions(id), h)
		p.Expire(ctx, keySessions(id), AbsoluteTimeout+time.Hour)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("account: start session: %w", err)
	}
	for _, o := range old {
		if n, err := s.rdb.Exists(ctx, keySession(o)).Result(); err == nil && n == 0 {
			s.rdb.SRem(ctx, keySessions(id), o)
		}
	}
	return token, nil
}

// Session finds the session of token and counts this as its latest
// request. An expired session is ended here.
func (s *Store) Session(ctx context.Context, token string) (*Session, error) {
	return s.session(ctx, token, true)
}

// Peek is Session without counting the request as activity: a page that
// refreshes itself must not keep an unattended session alive.
func (s *Store) Peek(ctx context.Context, token string) (*Session, error) {
	return s.session(ctx, token, false)
}

func (s *Store) session(ctx context.Context, token string, touch bool) (*Session, error) {
	if b, err := tokenEncoding.DecodeString(token); err != nil || len(b) != tokenBytes {
		return nil, ErrNoSession
	}
	h := s.keys.Hash(purposeSession, token)
	m, err := s.rdb.HGetAll(ctx, keySession(h)).Result()
	if err != nil {
		return nil, fmt.Errorf("account: session: %w", err)
	}
	if len(m) == 0 {
		return nil, ErrNoSession
	}
	created, _ := strconv.ParseInt(m["created"], 10, 64)
	seen, _ := strconv.ParseInt(m["seen"], 10, 64)
	ss := &Session{Setup: m["setup"] == "1", CreatedAt: time.UnixMilli(created), SeenAt: time.UnixMilli(seen)}
	now := s.now()
	life := AbsoluteTimeout
	if ss.Setup {
		life = SetupTimeout
	}
	end := ss.CreatedAt.Add(life)
	if !now.Before(end) || !now.Before(ss.SeenAt.Add(IdleTimeout)) {
		s.endHash(ctx, m["reviewer"], h)
		return nil, ErrNoSession
	}
	a, err := s.load(ctx, m["reviewer"])
	if errors.Is(err, ErrNotFound) {
		s.endHash(ctx, m["reviewer"], h)
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	if a.Disabled {
		s.endHash(ctx, a.ID, h)
		return nil, ErrNoSession
	}
	ss.Reviewer = &a.Reviewer
	if !touch {
		return ss, nil
	}
	ss.SeenAt = now
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keySession(h), "seen", now.UnixMilli())
		p.Expire(ctx, keySession(h), max(min(IdleTimeout, end.Sub(now)), time.Second))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("account: touch session: %w", err)
	}
	return ss, nil
}

// EndSession ends the session of token, so its cookie no longer works
// anywhere, even if someone copied it.
func (s *Store) EndSession(ctx context.Context, token string) error {
	h := s.keys.Hash(purposeSession, token)
	id, err := s.rdb.HGet(ctx, keySession(h), "reviewer").Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("account: end session: %w", err)
	}
	return s.endHash(ctx, id, h)
}

// endHash ends one session by its hash.
func (s *Store) endHash(ctx context.Context, id, h string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, keySession(h))
		if id != "" {
			p.SRem(ctx, keySessions(id), h)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("account: end session: %w", err)
	}
	return nil
}

// EndSessions ends every session of the reviewer: "sign out everywhere",
// and what disabling or resetting an account does.
func (s *Store) EndSessions(ctx context.Context, id string) error {
	hs, err := s.rdb.SMembers(ctx, keySessions(id)).Result()
	if err != nil {
		return fmt.Errorf("account: end sessions: %w", err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, h := range hs {
			p.Del(ctx, keySession(h))
		}
		p.Del(ctx, keySessions(id))
		return nil
	})
	if err != nil {
		return fmt.Errorf("account: end sessions: %w", err)
	}
	return nil
}

func boolField(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
