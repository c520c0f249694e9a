package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/web/account"
	"github.com/tipline/tipline/web/audit"
)

var tempPasswordLine = regexp.MustCompile(`(?m)^temporary password \(shown once\): (\S+)$`)

// TestReviewerCommands runs `tipline reviewer add|list|disable|enable|reset`
// as an operator would, and checks each against the store the server
// reads: the temporary password signs in for setup only, disable and
// reset end sessions, and every change is in the audit log.
func TestReviewerCommands(t *testing.T) {
	e := testEnv(t, nil)
	rdb := redistest.New(t, db)
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(append([]string{"reviewer"}, args...), nil, &out, io.Discard, e.get)
		return out.String(), err
	}
	st, err := loadSettings(e.get)
	require.NoError(t, err)
	keys, err := intake.NewKeyring(st.Keys, st.HashKey)
	require.NoError(t, err)
	accounts := account.NewStore(rdb, keys)
	ctx := context.Background()

	out, err := cli("add", "--login", "Ana", "--name", "Ana López", "--role", "lead", "--teams", "lincoln-btam,roosevelt-btam")
	require.NoError(t, err)
	require.Contains(t, out, "added ana (lead of lincoln-btam,roosevelt-btam)")
	m := tempPasswordLine.FindStringSubmatch(out)
	require.NotNil(t, m, "output: %s", out)
	r, setup, err := accounts.SignIn(ctx, "ana", m[1], "")
	require.NoError(t, err, "the printed temporary password signs in")
	require.True(t, setup, "for setup only")
	require.Equal(t, "Ana López", r.Name)
	require.True(t, r.Leads("lincoln-btam"))

	_, err = cli("add", "--login", "admin", "--name", "Dana", "--role", "admin")
	require.NoError(t, err, "an admin needs no team")

	for _, bad := range [][]string{
		{"add", "--login", "ana", "--name", "Again", "--role", "reviewer", "--teams", "lincoln-btam"},
		{"add", "--login", "bo", "--name", "Bo", "--role", "reviewer", "--teams", "no-such-team"},
		{"add", "--login", "bo", "--name", "Bo", "--role", "root", "--teams", "lincoln-btam"},
		{"add", "--login", "bo", "--name", "Bo", "--role", "reviewer"},
		{"add", "--login", "b o", "--name", "Bo", "--role", "reviewer", "--teams", "lincoln-btam"},
		{"add", "--login", "bo", "--role", "reviewer", "--teams", "lincoln-btam"},
		{"add", "--login", "bo", "--name", "Bo", "stray"},
		{"disable", "nobody"},
		{"reset"},
		{"list", "extra"},
		{"promote", "ana"},
		{},
	} {
		_, err := cli(bad...)
		require.Error(t, err, "%q", bad)
	}

	out, err = cli("list")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, "a header and two accounts: %s", out)
	require.Regexp(t, `^LOGIN\s+NAME\s+ROLE\s+TEAMS\s+STATUS\s+CREATED$`, lines[0])
	require.Regexp(t, `^admin\s+Dana\s+admin\s+active\s+\d{4}-\d\d-\d\d$`, lines[1])
	require.Regexp(t, `^ana\s+Ana López\s+lead\s+lincoln-btam,roosevelt-btam\s+active\s+`, lines[2])

	token, err := accounts.StartSession(ctx, r.ID, true)
	require.NoError(t, err)
	out, err = cli("disable", "ANA")
	require.NoError(t, err)
	require.Equal(t, "disabled ana\n", out)
	_, err = accounts.Session(ctx, token)
	require.ErrorIs(t, err, account.ErrNoSession, "disabling ends the session")
	_, _, err = accounts.SignIn(ctx, "ana", m[1], "")
	require.ErrorIs(t, err, account.ErrBadCredentials)
	out, err = cli("list")
	require.NoError(t, err)
	require.Regexp(t, `(?m)^ana .*\sdisabled\s`, out)
	_, err = cli("enable", "ana")
	require.NoError(t, err)

	token, err = accounts.StartSession(ctx, r.ID, false)
	require.NoError(t, err)
	out, err = cli("reset", "ana")
	require.NoError(t, err)
	require.Contains(t, out, "reset ana; every session ended")
	m2 := tempPasswordLine.FindStringSubmatch(out)
	require.NotNil(t, m2)
	require.NotEqual(t, m[1], m2[1])
	_, err = accounts.Session(ctx, token)
	require.ErrorIs(t, err, account.ErrNoSession, "resetting ends the session")
	_, setup, err = accounts.SignIn(ctx, "ana", m2[1], "")
	require.NoError(t, err)
	require.True(t, setup, "a reset account sets up password and TOTP again")

	entries, err := audit.New(rdb).List(ctx, time.Time{}, time.Time{}, 100)
	require.NoError(t, err)
	var actions []string
	for i := len(entries) - 1; i >= 0; i-- {
		require.Equal(t, "cli", entries[i].Actor)
		actions = append(actions, entries[i].Action)
	}
	require.Equal(t, []string{"reviewer.add", "reviewer.add", "reviewer.disable", "reviewer.enable", "reviewer.reset"}, actions)
	require.NotContains(t, redistest.Dump(t, rdb), m2[1], "the temporary password is not kept")
}

// TestReviewerCommandNeedsRedis: accounts made in a throwaway store would
// vanish, so the command refuses without REDIS_URL.
func TestReviewerCommandNeedsRedis(t *testing.T) {
	err := run([]string{"reviewer", "list"}, nil, io.Discard, io.Discard, env{}.get)
	require.ErrorContains(t, err, "REDIS_URL is unset")
}
