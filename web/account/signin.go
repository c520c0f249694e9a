package account

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Lockout: after MaxFailures failed sign-ins in a row, a login is refused
// for LockDuration, whether or not an account has it, so the refusal says
// nothing about which logins exist. It is counted per login, never per
// address: addresses are never stored.
const (
	MaxFailures  = 5
	LockDuration = 15 * time.Minute
)

// ErrBadCredentials means the login, password or code was wrong, or the
// account is disabled: one answer for all, so a stranger learns nothing.
var ErrBadCredentials = errors.New("account: wrong login, password or code")

// ErrLocked means the login had too many failed sign-ins; try later.
var ErrLocked = errors.New("account: locked after too many failed sign-ins")

// SignIn checks a login, password and TOTP code. setup is true for an
// account that still has a temporary password or no TOTP secret: the code
// is not asked for, and the session it gets may only finish that setup.
func (s *Store) SignIn(ctx context.Context, login, password, code string) (r *Reviewer, setup bool, err error) {
	lh := s.loginHash(login)
	locked, err := s.locked(ctx, lh)
	if err != nil {
		return nil, false, err
	}
	if locked {
		return nil, false, ErrLocked
	}
	var a *account
	id, err := s.idOf(ctx, login)
	if err == nil {
		a, err = s.load(ctx, id)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	phc := ""
	if a != nil {
		phc = a.passwordHash
	}
	// A password that long is refused, but only after the same work.
	if len(password) > MaxPassword {
		password = password[:MaxPassword]
		a = nil
	}
	ok, err := s.checkPassword(ctx, phc, password)
	if err != nil {
		return nil, false, err
	}
	if a == nil || !ok || a.Disabled {
		return nil, false, s.fail(ctx, lh)
	}
	setup = a.mustChange || a.totp == ""
	if !setup {
		secret, err := s.keys.Open(a.totp, totpBinding(a.ID))
		if err != nil {
			return nil, false, fmt.Errorf("account: open totp: %w", err)
		}
		step, ok := totpMatch(secret, code, s.now(), a.totpLast)
		if !ok {
			return nil, false, s.fail(ctx, lh)
		}
		// Two sign-ins racing with one code: only the first spends it.
		spent, err := spendStep.Run(ctx, s.rdb, []string{keyAccount(a.ID)}, step).Int()
		if err != nil {
			return nil, false, fmt.Errorf("account: sign in: %w", err)
		}
		if spent == 0 {
			return nil, false, s.fail(ctx, lh)
		}
	}
	if err := s.rdb.Del(ctx, keyFailures(lh)).Err(); err != nil {
		return nil, false, fmt.Errorf("account: sign in: %w", err)
	}
	return &a.Reviewer, setup, nil
}

// spendStep records a TOTP step as used if it is later than the last one,
// in one step, and answers 1 if it did.
var spendStep = redis.NewScript(`
local last = tonumber(redis.call("HGET", KEYS[1], "totp_last") or "0")
if tonumber(ARGV[1]) <= last then return 0 end
redis.call("HSET", KEYS[1], "totp_last", ARGV[1])
return 1
`)

// locked tells whether a login is locked out now. The lock holds its end
// time, read against the store's clock; Redis expires it too.
func (s *Store) locked(ctx context.Context, lh string) (bool, error) {
	v, err := s.rdb.Get(ctx, keyLocked(lh)).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("account: check lock: %w", err)
	}
	until, _ := strconv.ParseInt(v, 10, 64)
	return s.now().UnixMilli() < until, nil
}

// fail counts a failed sign-in and locks the login at the MaxFailures-th.
// It returns the error to answer with: ErrLocked when this failure locked
// the login, else ErrBadCredentials.
func (s *Store) fail(ctx context.Context, lh string) error {
	var n *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.Incr(ctx, keyFailures(lh))
		p.Expire(ctx, keyFailures(lh), LockDuration)
		return nil
	})
	if err != nil {
		return fmt.Errorf("account: count failure: %w", err)
	}
	if n.Val() < MaxFailures {
		return ErrBadCredentials
	}
	until := s.now().Add(LockDuration).UnixMilli()
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, keyLocked(lh), until, LockDuration)
		p.Del(ctx, keyFailures(lh))
		return nil
	})
	if err != nil {
		return fmt.Errorf("account: lock: %w", err)
	}
	return ErrLocked
}

// LoginHash is the keyed hash of a login, for rate-limit keys that must
// not hold the login itself.
func (s *Store) LoginHash(login string) string { return s.loginHash(login) }
