package account_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/web/account"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// db is this package's database on the test Redis.
const db = 12

// clock is a time the test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newStore(t *testing.T) (*account.Store, *clock, *redis.Client) {
	t.Helper()
	rdb := redistest.New(t, db)
	keys, err := intake.NewKeyring([]intake.Key{{ID: "k1", Secret: intake.NewKeySecret()}}, intake.NewKeySecret())
	require.NoError(t, err)
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	return account.NewStore(rdb, keys).WithClock(clk.now).WithCost(1, 64), clk, rdb
}

// TestTOTPCodesFollowRFC6238 checks the code function against RFC 6238's
// SHA-1 test vectors (the last six of their eight digits), which is what
// every authenticator app computes.
func TestTOTPCodesFollowRFC6238(t *testing.T) {
	// "12345678901234567890" in base32.
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
		{1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"},
	} {
		got, err := account.TOTPCode(secret, time.Unix(tc.unix, 0))
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "code at %d", tc.unix)
	}
}

// TestRolesSeeAndLead shows who sees a tip and who leads a team.
func TestRolesSeeAndLead(t *testing.T) {
	rev := &account.Reviewer{Role: account.RoleReviewer, Teams: []string{"north"}}
	lead := &account.Reviewer{Role: account.RoleLead, Teams: []string{"north"}}
	admin := &account.Reviewer{Role: account.RoleAdmin}
	off := &account.Reviewer{Role: account.RoleAdmin, Disabled: true}
	require.True(t, rev.Sees([]string{"south", "north"}))
	require.False(t, rev.Sees([]string{"south"}))
	require.False(t, rev.Sees(nil))
	require.True(t, admin.Sees([]string{"south"}))
	require.False(t, off.Sees([]string{"south"}))
	require.False(t, rev.Leads("north"))
	require.True(t, lead.Leads("north"))
	require.False(t, lead.Leads("south"))
	require.True(t, admin.Leads("south"))
	var none *account.Reviewer
	require.False(t, none.Sees([]string{"north"}))
}

// TestAddValidates refuses logins, names, roles and teams that will not do,
// and a login taken in another case.
func TestAddValidates(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	r, temp, err := s.Add(ctx, account.NewReviewer{Login: " Ana.Lopez ", Name: "Ana López", Role: account.RoleLead, Teams: []string{"north", "north"}})
	require.NoError(t, err)
	require.Equal(t, "ana.lopez", r.Login)
	require.Equal(t, []string{"north"}, r.Teams)
	require.GreaterOrEqual(t, len(temp), 20, "temporary password %q", temp)
	got, err := s.GetByLogin(ctx, "ANA.LOPEZ")
	require.NoError(t, err)
	require.Equal(t, r.ID, got.ID)
	for _, n := range []account.NewReviewer{
		{Login: "ana.lopez", Name: "Other", Role: account.RoleReviewer, Teams: []string{"north"}},
		{Login: "", Name: "x", Role: account.RoleReviewer, Teams: []string{"a"}},
		{Login: "a b", Name: "x", Role: account.RoleReviewer, Teams: []string{"a"}},
		{Login: "ok", Name: "", Role: account.RoleReviewer, Teams: []string{"a"}},
		{Login: "ok", Name: "line\nbreak", Role: account.RoleReviewer, Teams: []string{"a"}},
		{Login: "ok", Name: "x", Role: "root", Teams: []string{"a"}},
		{Login: "ok", Name: "x", Role: account.RoleReviewer},
		{Login: "ok", Name: "x", Role: account.RoleReviewer, Teams: []string{"a,b"}},
	} {
		_, _, err := s.Add(ctx, n)
		require.Error(t, err, "%+v", n)
	}
	_, err = s.GetByLogin(ctx, "ok")
	require.ErrorIs(t, err, account.ErrNotFound)
	list, err := s.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
}

// TestNothingSecretInRedis: a copy of Redis holds no password, TOTP secret
// or session token in the clear.
func TestNothingSecretInRedis(t *testing.T) {
	s, clk, rdb := newStore(t)
	ctx := context.Background()
	r, temp, err := s.Add(ctx, account.NewReviewer{Login: "kim", Name: "Kim", Role: account.RoleReviewer, Teams: []string{"north"}})
	require.NoError(t, err)
	_, setup, err := s.SignIn(ctx, "kim", temp, "")
	require.NoError(t, err)
	require.True(t, setup)
	require.NoError(t, s.SetPassword(ctx, r.ID, "correct horse battery staple"))
	secret, err := s.BeginTOTP(ctx, r.ID)
	require.NoError(t, err)
	code, err := account.TOTPCode(secret, clk.now())
	require.NoError(t, err)
	require.NoError(t, s.ConfirmTOTP(ctx, r.ID, code))
	clk.t = clk.t.Add(30 * time.Second)
	code, err = account.TOTPCode(secret, clk.now())
	require.NoError(t, err)
	_, setup, err = s.SignIn(ctx, "kim", "correct horse battery staple", code)
	require.NoError(t, err)
	require.False(t, setup)
	token, err := s.StartSession(ctx, r.ID, false)
	require.NoError(t, err)

	dump := redistest.Dump(t, rdb)
	for _, secretText := range []string{temp, "correct horse battery staple", secret, token} {
		require.NotContains(t, dump, secretText)
	}
	require.Contains(t, dump, "$argon2id$v=19$m=64,t=1,p=1$", "passwords are argon2id hashes")
}

// TestACodeWorksOnceEvenInARace: sign-ins racing with one code (a code
// seen over a shoulder and typed at once) let exactly one through.
func TestACodeWorksOnceEvenInARace(t *testing.T) {
	s, clk, _ := newStore(t)
	ctx := context.Background()
	r, temp, err := s.Add(ctx, account.NewReviewer{Login: "kim", Name: "Kim", Role: account.RoleReviewer, Teams: []string{"north"}})
	require.NoError(t, err)
	_, _, err = s.SignIn(ctx, "kim", temp, "")
	require.NoError(t, err)
	require.NoError(t, s.SetPassword(ctx, r.ID, "correct horse battery staple"))
	secret, err := s.BeginTOTP(ctx, r.ID)
	require.NoError(t, err)
	code, err := account.TOTPCode(secret, clk.now())
	require.NoError(t, err)
	require.NoError(t, s.ConfirmTOTP(ctx, r.ID, code))
	clk.t = clk.t.Add(30 * time.Second)
	code, err = account.TOTPCode(secret, clk.now())
	require.NoError(t, err)

	const n = 4 // under the lockout, so every failure is a plain wrong code
	results := make(chan error, n)
	for range n {
		go func() {
			_, _, err := s.SignIn(ctx, "kim", "correct horse battery staple", code)
			results <- err
		}()
	}
	ok := 0
	for range n {
		if err := <-results; err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, account.ErrBadCredentials)
		}
	}
	require.Equal(t, 1, ok, "sign-ins let through by one code")
}
