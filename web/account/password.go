package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// kdfParams are argon2id's cost settings.
type kdfParams struct {
	time    uint32
	memory  uint32 // KiB
	threads uint8
}

// defaultKDF is OWASP's first recommended argon2id setting (19 MiB, two
// passes, one lane): about 50 ms on one core of a small server, and
// little memory, so a burst of sign-ins cannot exhaust the machine.
var defaultKDF = kdfParams{time: 2, memory: 19 << 10, threads: 1}

// maxHashing is how many password hashes may run at once.
const maxHashing = 4

// WithCost sets argon2id's passes and memory (KiB) for new hashes; hashes
// already stored keep the settings written in them. Tests use a small
// cost to hash hundreds of hostile strings quickly. It returns the store.
func (s *Store) WithCost(passes, memoryKiB uint32) *Store {
	s.kdf = kdfParams{time: max(passes, 1), memory: max(memoryKiB, 8), threads: 1}
	return s
}

const (
	saltLen = 16
	hashLen = 32
)

// Password rules. NIST SP 800-63B asks for length, not for mixes of
// character classes; the upper bound keeps hashing cheap to refuse.
const (
	MinPassword = 12  // characters
	MaxPassword = 256 // bytes
)

// ErrWeakPassword means a new password breaks the rules above; its text
// says which, for the person choosing it.
var ErrWeakPassword = errors.New("account: password")

// CheckPassword tells why a new password will not do, or nil.
func CheckPassword(login, password string) error {
	switch {
	case !utf8.ValidString(password):
		return fmt.Errorf("%w: must be text", ErrWeakPassword)
	case utf8.RuneCountInString(password) < MinPassword:
		return fmt.Errorf("%w: must be at least %d characters", ErrWeakPassword, MinPassword)
	case len(password) > MaxPassword:
		return fmt.Errorf("%w: must be at most %d bytes", ErrWeakPassword, MaxPassword)
	case strings.Contains(strings.ToLower(password), NormalizeLogin(login)) && NormalizeLogin(login) != "":
		return fmt.Errorf("%w: must not contain the login", ErrWeakPassword)
	}
	return nil
}

// hashPassword returns password's argon2id hash as a PHC string, which
// carries its parameters so that they can change without losing old hashes.
func (s *Store) hashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	sum, err := s.argon(ctx, []byte(password), salt, s.kdf)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, s.kdf.memory, s.kdf.time, s.kdf.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum)), nil
}

// checkPassword tells whether password matches the PHC string phc. An
// empty or malformed phc is checked against a dummy hash, so that an
// unknown login costs the same work as a wrong password.
func (s *Store) checkPassword(ctx context.Context, phc, password string) (bool, error) {
	p, salt, want, ok := parsePHC(phc)
	if !ok {
		s.dummy.Do(func() {
			s.dummyPH, _ = s.hashPassword(context.Background(), rand.Text())
		})
		p, salt, want, _ = parsePHC(s.dummyPH)
		if len(want) == 0 { // the dummy could not be made: spend the work anyway
			p, salt, want = s.kdf, make([]byte, saltLen), make([]byte, hashLen)
		}
		_, err := s.argon(ctx, []byte(password), salt, p)
		return false, err
	}
	got, err := s.argon(ctx, []byte(password), salt, p)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// argon runs argon2id when a slot is free, or gives up when ctx ends.
func (s *Store) argon(ctx context.Context, password, salt []byte, p kdfParams) ([]byte, error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("account: wait to hash: %w", ctx.Err())
	}
	defer func() { <-s.hashing }()
	return argon2.IDKey(password, salt, p.time, p.memory, p.threads, hashLen), nil
}

// parsePHC reads "$argon2id$v=19$m=...,t=...,p=...$salt$hash", with
// bounds on the parameters so a tampered hash cannot ask for terabytes.
func parsePHC(phc string) (kdfParams, []byte, []byte, bool) {
	var p kdfParams
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, nil, nil, false
	}
	if p.memory < 8 || p.memory > 1<<20 || p.time < 1 || p.time > 16 || p.threads < 1 {
		return p, nil, nil, false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	sum, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(sum) != hashLen {
		return p, nil, nil, false
	}
	return p, salt, sum, true
}
