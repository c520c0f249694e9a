package account

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
)

// ErrInvalid means a login, name, role or team will not do; the error's
// text says which and why.
var ErrInvalid = errors.New("account: invalid")

// ErrLoginTaken means another reviewer already has the login.
var ErrLoginTaken = errors.New("account: login taken")

// loginPattern is what a login may be: short, plain, and typeable on any
// keyboard, since it is typed at every sign-in.
var loginPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// teamPattern is what a team ID may be; the command line checks it
// against the config too.
var teamPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// maxName is the longest display name, in characters.
const maxName = 100

// NewReviewer is what Add needs to make an account.
type NewReviewer struct {
	Login string
	Name  string
	Role  Role
	Teams []string
}

// check validates and normalises the fields.
func (n *NewReviewer) check() error {
	n.Login = NormalizeLogin(n.Login)
	n.Name = strings.TrimSpace(n.Name)
	switch {
	case !loginPattern.MatchString(n.Login):
		return fmt.Errorf("%w: login %q: use 1 to 64 of a-z, 0-9 and . _ @ -, starting with a letter or digit", ErrInvalid, n.Login)
	case n.Name == "" || !utf8.ValidString(n.Name) || utf8.RuneCountInString(n.Name) > maxName:
		return fmt.Errorf("%w: name: 1 to %d characters", ErrInvalid, maxName)
	case strings.IndexFunc(n.Name, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: name: no control characters or line breaks", ErrInvalid)
	case !n.Role.Valid():
		return fmt.Errorf("%w: role %q: one of reviewer, lead, admin", ErrInvalid, n.Role)
	case len(n.Teams) == 0 && n.Role != RoleAdmin:
		return fmt.Errorf("%w: teams: a %s needs at least one team", ErrInvalid, n.Role)
	}
	seen := map[string]bool{}
	teams := n.Teams[:0:0]
	for _, t := range n.Teams {
		t = strings.TrimSpace(t)
		if !teamPattern.MatchString(t) {
			return fmt.Errorf("%w: team %q: use 1 to 64 of A-Z, a-z, 0-9 and . _ -", ErrInvalid, t)
		}
		if !seen[t] {
			seen[t] = true
			teams = append(teams, t)
		}
	}
	n.Teams = teams
	return nil
}

// Add makes an account and returns it with a one-time temporary password:
// at first sign-in the reviewer must choose a password and enrol TOTP.
func (s *Store) Add(ctx context.Context, n NewReviewer) (*Reviewer, string, error) {
	if err := n.check(); err != nil {
		return nil, "", err
	}
	temp := rand.Text()
	ph, err := s.hashPassword(ctx, temp)
	if err != nil {
		return nil, "", err
	}
	r := &Reviewer{ID: rand.Text(), Login: n.Login, Name: n.Name, Role: n.Role, Teams: n.Teams, CreatedAt: s.now().UTC()}
	made, err := s.rdb.SetNX(ctx, keyLogin(s.loginHash(r.Login)), r.ID, 0).Result()
	if err != nil {
		return nil, "", fmt.Errorf("account: add: %w", err)
	}
	if !made {
		return nil, "", fmt.Errorf("%w: %s", ErrLoginTaken, r.Login)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keyAccount(r.ID),
			"login", r.Login, "name", r.Name, "role", string(r.Role), "teams", strings.Join(r.Teams, ","),
			"created_at", r.CreatedAt.Format(timeFormat), "password", ph, "must_change", "1")
		p.SAdd(ctx, keyAccounts, r.ID)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("account: add: %w", err)
	}
	return r, temp, nil
}

// SetDisabled disables or enables an account. Disabling ends every
// session of the account at once.
func (s *Store) SetDisabled(ctx context.Context, id string, disabled bool) error {
	if _, err := s.load(ctx, id); err != nil {
		return err
	}
	v := "0"
	if disabled {
		v = "1"
	}
	if err := s.rdb.HSet(ctx, keyAccount(id), "disabled", v).Err(); err != nil {
		return fmt.Errorf("account: disable: %w", err)
	}
	if disabled {
		return s.EndSessions(ctx, id)
	}
	return nil
}

// Reset gives an account a new temporary password and forgets its TOTP
// secret, so its next sign-in sets both again, and ends its sessions. It
// is for a lost phone or a forgotten password, and for a suspected theft.
func (s *Store) Reset(ctx context.Context, id string) (string, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return "", err
	}
	temp := rand.Text()
	ph, err := s.hashPassword(ctx, temp)
	if err != nil {
		return "", err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keyAccount(id), "password", ph, "must_change", "1")
		p.HDel(ctx, keyAccount(id), "totp", "totp_pending", "totp_last")
		lh := s.loginHash(a.Login)
		p.Del(ctx, keyFailures(lh), keyLocked(lh))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("account: reset: %w", err)
	}
	return temp, s.EndSessions(ctx, id)
}

// NeedsPassword tells whether the account still has a temporary password.
func (s *Store) NeedsPassword(ctx context.Context, id string) (bool, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return false, err
	}
	return a.mustChange, nil
}

// NeedsTOTP tells whether the account has yet to enrol TOTP.
func (s *Store) NeedsTOTP(ctx context.Context, id string) (bool, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return false, err
	}
	return a.totp == "", nil
}

// SetPassword replaces the account's password with one the reviewer
// chose. It must follow CheckPassword and differ from the old one.
func (s *Store) SetPassword(ctx context.Context, id, password string) error {
	a, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if err := CheckPassword(a.Login, password); err != nil {
		return err
	}
	same, err := s.checkPassword(ctx, a.passwordHash, password)
	if err != nil {
		return err
	}
	if same {
		return fmt.Errorf("%w: must differ from the old one", ErrWeakPassword)
	}
	ph, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keyAccount(id), "password", ph)
		p.HDel(ctx, keyAccount(id), "must_change")
		return nil
	})
	if err != nil {
		return fmt.Errorf("account: set password: %w", err)
	}
	return nil
}

// ErrEnrolled means the account already has a TOTP secret; only Reset
// makes room for another.
var ErrEnrolled = errors.New("account: TOTP already enrolled")

// ErrBadCode means a TOTP code did not match (or was used before).
var ErrBadCode = errors.New("account: wrong code")

// BeginTOTP makes a new TOTP secret for the account to enrol and returns it
// in base32, to be shown once. Until ConfirmTOTP sees a code from it, it
// is only pending; asking again replaces it.
func (s *Store) BeginTOTP(ctx context.Context, id string) (string, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return "", err
	}
	if a.totp != "" {
		return "", ErrEnrolled
	}
	secret := newTOTPSecret()
	if err := s.rdb.HSet(ctx, keyAccount(id), "totp_pending", s.keys.Seal(secret, totpBinding(id))).Err(); err != nil {
		return "", fmt.Errorf("account: begin totp: %w", err)
	}
	return secret, nil
}

// ConfirmTOTP enrols the pending secret once the reviewer shows a code from
// it, which proves their app has it.
func (s *Store) ConfirmTOTP(ctx context.Context, id, code string) error {
	a, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if a.totp != "" {
		return ErrEnrolled
	}
	if a.totpPending == "" {
		return ErrBadCode
	}
	secret, err := s.keys.Open(a.totpPending, totpBinding(id))
	if err != nil {
		return fmt.Errorf("account: open totp: %w", err)
	}
	step, ok := totpMatch(secret, code, s.now(), a.totpLast)
	if !ok {
		return ErrBadCode
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keyAccount(id), "totp", a.totpPending, "totp_last", step)
		p.HDel(ctx, keyAccount(id), "totp_pending")
		return nil
	})
	if err != nil {
		return fmt.Errorf("account: confirm totp: %w", err)
	}
	return nil
}

// totpBinding binds a sealed TOTP secret to its account, so it cannot be
// copied onto another.
func totpBinding(id string) string { return "totp:" + id }

// PendingTOTP is the secret BeginTOTP made and no code has confirmed yet,
// to show again after a mistyped code; "" when there is none.
func (s *Store) PendingTOTP(ctx context.Context, id string) (string, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return "", err
	}
	if a.totp != "" || a.totpPending == "" {
		return "", nil
	}
	secret, err := s.keys.Open(a.totpPending, totpBinding(id))
	if err != nil {
		return "", fmt.Errorf("account: open totp: %w", err)
	}
	return secret, nil
}
