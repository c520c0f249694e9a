package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tipline/tipline/intake"
)

// ErrNotFound means no reviewer answers to the ID or login asked for.
var ErrNotFound = errors.New("account: not found")

// Key names, all in one place.
func keyAccount(id string) string         { return "reviewer:" + id }
func keyLogin(loginHash string) string    { return "reviewer:login:" + loginHash }
func keySessions(id string) string        { return "reviewer:" + id + ":sessions" }
func keySession(idHash string) string     { return "reviewer:session:" + idHash }
func keyFailures(loginHash string) string { return "reviewer:failures:" + loginHash }
func keyLocked(loginHash string) string   { return "reviewer:locked:" + loginHash }

// timeFormat is how times are written in account hashes.
const timeFormat = time.RFC3339Nano

// keyAccounts holds every reviewer's ID, for List.
const keyAccounts = "reviewers"

// Purposes of keyed hashes, so a login's hash is never a session's.
const (
	purposeLogin   = "reviewer-login"
	purposeSession = "reviewer-session"
)

// Store keeps reviewers and their sessions in Redis.
type Store struct {
	rdb  redis.UniversalClient
	keys *intake.Keyring
	now  func() time.Time
	kdf  kdfParams
	// hashing bounds how many argon2id hashes run at once: each takes
	// kdf.memory KiB, and a flood of sign-ins must not take the machine's.
	hashing chan struct{}
	dummy   sync.Once
	dummyPH string
}

// NewStore returns a store on rdb that seals TOTP secrets and hashes logins
// and session IDs with keys.
func NewStore(rdb redis.UniversalClient, keys *intake.Keyring) *Store {
	return &Store{rdb: rdb, keys: keys, now: time.Now, kdf: defaultKDF, hashing: make(chan struct{}, maxHashing)}
}

// WithClock makes the store read the time from now, so tests can move it
// past a timeout without sleeping. It returns the store.
func (s *Store) WithClock(now func() time.Time) *Store {
	s.now = now
	return s
}

// Get returns the reviewer with this ID.
func (s *Store) Get(ctx context.Context, id string) (*Reviewer, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return &a.Reviewer, nil
}

// GetByLogin returns the reviewer with this login.
func (s *Store) GetByLogin(ctx context.Context, login string) (*Reviewer, error) {
	id, err := s.idOf(ctx, login)
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// List returns every reviewer, ordered by login.
func (s *Store) List(ctx context.Context) ([]*Reviewer, error) {
	ids, err := s.rdb.SMembers(ctx, keyAccounts).Result()
	if err != nil {
		return nil, fmt.Errorf("account: list: %w", err)
	}
	out := make([]*Reviewer, 0, len(ids))
	for _, id := range ids {
		a, err := s.load(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, &a.Reviewer)
	}
	slices.SortFunc(out, func(a, b *Reviewer) int { return strings.Compare(a.Login, b.Login) })
	return out, nil
}

// account is a reviewer with what signing in needs.
type account struct {
	Reviewer
	passwordHash string // argon2id, PHC string
	mustChange   bool   // the password is a temporary one
	totp         string // sealed TOTP secret; empty until enrolled
	totpPending  string // sealed secret shown at enrolment, not yet confirmed
	totpLast     int64  // the last TOTP step accepted, so a code works once
}

// load reads an account by ID.
func (s *Store) load(ctx context.Context, id string) (*account, error) {
	if id == "" {
		return nil, ErrNotFound
	}
	m, err := s.rdb.HGetAll(ctx, keyAccount(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("account: load: %w", err)
	}
	if len(m) == 0 {
		return nil, ErrNotFound
	}
	created, _ := time.Parse(timeFormat, m["created_at"])
	last, _ := strconv.ParseInt(m["totp_last"], 10, 64)
	a := &account{
		Reviewer: Reviewer{
			ID:        id,
			Login:     m["login"],
			Name:      m["name"],
			Role:      Role(m["role"]),
			Disabled:  m["disabled"] == "1",
			CreatedAt: created,
		},
		passwordHash: m["password"],
		mustChange:   m["must_change"] == "1",
		totp:         m["totp"],
		totpPending:  m["totp_pending"],
		totpLast:     last,
	}
	if t := m["teams"]; t != "" {
		a.Teams = strings.Split(t, ",")
	}
	return a, nil
}

// idOf finds a reviewer's ID by login.
func (s *Store) idOf(ctx context.Context, login string) (string, error) {
	id, err := s.rdb.Get(ctx, keyLogin(s.loginHash(login))).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("account: find login: %w", err)
	}
	return id, nil
}

// loginHash is the keyed hash a login is found by; logins are matched
// without regard to case.
func (s *Store) loginHash(login string) string {
	return s.keys.Hash(purposeLogin, NormalizeLogin(login))
}

// NormalizeLogin is the form a login is compared in: trimmed, lower case.
func NormalizeLogin(login string) string {
	return strings.ToLower(strings.TrimSpace(login))
}
