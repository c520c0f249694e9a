package intake_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/triage"
)

// db is intake's own database on the test Redis.
const db = 1

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

type fixture struct {
	rdb    *redis.Client
	keys   *intake.Keyring
	store  *intake.Store
	intake *intake.Intake
	logs   *bytes.Buffer
}

func newKeys(t testing.TB) *intake.Keyring {
	k, err := intake.NewKeyring([]intake.Key{{ID: "k1", Secret: intake.NewKeySecret()}}, intake.NewKeySecret())
	require.NoError(t, err)
	return k
}

// newQueue is the real triage queue, on asynq at opt.
func newQueue(t testing.TB, rdb redis.UniversalClient, opt asynq.RedisClientOpt) *triage.Queue {
	rules, err := triage.DefaultRules()
	require.NoError(t, err)
	router, err := triage.NewRouter(nil, nil, "default", func(string) bool { return true })
	require.NoError(t, err)
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	return triage.NewQueue(client, triage.NewTriager(rules, triage.NewClusters(rdb, time.Hour), router))
}

func newFixture(t testing.TB) *fixture {
	f := &fixture{rdb: redistest.New(t, db), keys: newKeys(t), logs: &bytes.Buffer{}}
	f.store = intake.NewStore(f.rdb, f.keys)
	f.intake = intake.New(f.store, newQueue(t, f.rdb, redistest.AsynqOpt(db)), slog.New(slog.NewTextHandler(f.logs, nil)))
	return f
}

var tokenShape = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`)

func TestSubmitStoresEncryptedAndQueues(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	body := "Jordan said he will shoot up the school on Friday at the assembly"
	rc, err := f.intake.Submit(ctx, intake.Report{Org: "lincoln-high", Category: "threat", Body: body, Location: "Room 12B", Contact: "call me at 555 0199"})
	require.NoError(t, err)
	require.Regexp(t, tokenShape, rc.Token.String())
	require.Equal(t, intake.StatusReceived, rc.Status)

	// Nothing a reporter wrote, nor the token, is in Redis in the clear.
	dump := redistest.Dump(t, f.rdb)
	for _, secret := range []string{"Jordan", "shoot", "Room 12B", "555 0199", string(rc.Token), rc.Token.String()} {
		require.NotContains(t, dump, secret, "Redis holds %q in the clear", secret)
	}

	tip, err := f.store.Tip(ctx, rc.TipID)
	require.NoError(t, err)
	require.Equal(t, body, tip.Body)
	require.Equal(t, "Room 12B", tip.Location)
	require.Equal(t, "call me at 555 0199", tip.Contact)
	require.Equal(t, intake.ChannelAPI, tip.Channel)

	// A threat with a day goes to the critical queue, carrying the ID only.
	info, err := asynq.NewInspector(redistest.AsynqOpt(db)).GetTaskInfo("critical", "triage:"+rc.TipID)
	require.NoError(t, err, "the tip's triage task is not in the critical queue")
	require.Equal(t, triage.TypeTip, info.Type)
	require.JSONEq(t, `{"tip_id":"`+rc.TipID+`"}`, string(info.Payload))
}

func TestFollowupAndReply(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rc, err := f.intake.Submit(ctx, intake.Report{Org: "lincoln-high", Body: "Someone keeps vaping in the bathroom"})
	require.NoError(t, err)

	// Typed back as a person might: lower case, spaces, O for 0 and I for 1.
	typed := strings.ToLower(strings.ReplaceAll(rc.Token.String(), "-", " "))
	typed = strings.NewReplacer("0", "o", "1", "i").Replace(typed)
	fu, err := f.intake.Followup(ctx, typed)
	require.NoError(t, err, "token typed as %q was not accepted", typed)
	require.Equal(t, intake.StatusReceived, fu.Status)
	require.Empty(t, fu.Messages)

	require.NoError(t, f.intake.Reply(ctx, rc.Token.String(), "It happens every day after lunch"))
	require.NoError(t, f.store.AddMessage(ctx, rc.TipID, intake.Message{From: intake.FromReviewer, Body: "Thank you. Which bathroom?", At: time.Now()}))
	fu, err = f.intake.Followup(ctx, rc.Token.String())
	require.NoError(t, err)
	require.Len(t, fu.Messages, 2)
	require.Equal(t, intake.FromReporter, fu.Messages[0].From)
	require.Equal(t, "It happens every day after lunch", fu.Messages[0].Body)
	require.Equal(t, intake.FromReviewer, fu.Messages[1].From)
	require.NotContains(t, redistest.Dump(t, f.rdb), "after lunch", "messages must be encrypted at rest")
}

func TestUnknownAndMalformedTokensLookAlike(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.intake.Submit(ctx, intake.Report{Org: "x", Body: "a report"})
	require.NoError(t, err)
	for _, tok := range []string{"", "hello", "0000-0000-0000-0000", "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ", "<script>", strings.Repeat("A", 100000), "ÅÅÅÅ-ÅÅÅÅ-ÅÅÅÅ-ÅÅÅÅ"} {
		_, err := f.intake.Followup(ctx, tok)
		require.ErrorIs(t, err, intake.ErrNotFound, "token %.20q", tok)
		require.ErrorIs(t, f.intake.Reply(ctx, tok, "hello"), intake.ErrNotFound, "reply with token %.20q", tok)
	}
}

func TestParseToken(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ABCD-EFGH-JKMN-PQRS", "ABCDEFGHJKMNPQRS"},
		{"abcd efgh jkmn pqrs", "ABCDEFGHJKMNPQRS"},
		{" O0Ol-IiL1-2345-6789 ", "00011111" + "23456789"},
		{"abcdefghjkmnpqrs", "ABCDEFGHJKMNPQRS"},
	} {
		got, err := intake.ParseToken(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, string(got), "ParseToken(%q)", tc.in)
	}
	for _, bad := range []string{"", "ABCD", "ABCD-EFGH-JKMN-PQRU", "ABCD-EFGH-JKMN-PQRS-T", "ABCD_EFGH_JKMN_PQRS", "АВСD-EFGH-JKMN-PQRS"} {
		_, err := intake.ParseToken(bad)
		require.ErrorIs(t, err, intake.ErrMalformedToken, "ParseToken(%q)", bad)
	}
}

func TestTokensAreDistinct(t *testing.T) {
	f := newFixture(t)
	seen := map[string]bool{}
	for range 200 {
		rc, err := f.intake.Submit(context.Background(), intake.Report{Org: "x", Body: "report"})
		require.NoError(t, err)
		require.False(t, seen[string(rc.Token)], "token %s issued twice", rc.Token)
		seen[string(rc.Token)] = true
	}
}

func TestSubmitCleansFields(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, body, want string
	}{
		{"script removed", `He posted <script>alert(1)</script>a list`, "He posted a list"},
		{"tags removed, text kept", `<b>bold</b> and <a href="javascript:x">link</a>`, "bold and link"},
		{"escaped markup is not revived", `x &lt;script&gt;alert(1)&lt;/script&gt;`, "x"},
		{"comparison kept as text", "grades < 50 & rising", "grades < 50 & rising"},
		{"NUL and controls dropped", "a\x00b\x07c", "abc"},
		{"CRLF normalised", "line1\r\nline2", "line1\nline2"},
		{"NFC", "Jose\u0301", "José"},
		{"trimmed", "  \n hello \t ", "hello"},
		{"emoji and Spanish kept", "¿Dónde está? 😢", "¿Dónde está? 😢"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := f.intake.Submit(ctx, intake.Report{Org: "x", Body: tc.body})
			require.NoError(t, err)
			tip, err := f.store.Tip(ctx, rc.TipID)
			require.NoError(t, err)
			require.Equal(t, tc.want, tip.Body, "body %q stored as %q, want %q", tc.body, tip.Body, tc.want)
		})
	}
}

func TestSubmitRejectsWithFieldErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		r     intake.Report
		field string
		code  string
	}{
		{"no body", intake.Report{Org: "x"}, "body", intake.ErrRequired},
		{"only markup", intake.Report{Org: "x", Body: "<script>alert(1)</script>"}, "body", intake.ErrRequired},
		{"no org", intake.Report{Body: "something"}, "org", intake.ErrRequired},
		{"body too long", intake.Report{Org: "x", Body: strings.Repeat("é", 10001)}, "body", intake.ErrTooLong},
		{"invalid UTF-8", intake.Report{Org: "x", Body: "bad \xff\xfe bytes"}, "body", intake.ErrInvalidText},
		{"unknown category", intake.Report{Org: "x", Body: "b", Category: "aliens"}, "category", intake.ErrUnknownCategory},
		{"where too long", intake.Report{Org: "x", Body: "b", Location: strings.Repeat("x", 501)}, "location", intake.ErrTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := f.intake.Submit(ctx, tc.r)
			var fe *intake.FieldError
			require.ErrorAs(t, err, &fe, "got %v", err)
			require.Equal(t, tc.field, fe.Field)
			require.Equal(t, tc.code, fe.Code)
			require.NotEmpty(t, fe.Message)
			require.Empty(t, rc.Token, "a token for a report that was refused")
		})
	}
	require.Empty(t, redistest.Dump(t, f.rdb), "a refused report left something in Redis")
}

func TestUnknownOrgIsKept(t *testing.T) {
	f := newFixture(t)
	rc, err := f.intake.Submit(context.Background(), intake.Report{Org: "no-such-school", Body: "fight planned after school"})
	require.NoError(t, err)
	tip, err := f.store.Tip(context.Background(), rc.TipID)
	require.NoError(t, err)
	require.Equal(t, "no-such-school", tip.Org)
}

func TestNoTokenWhenStoreIsDown(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer dead.Close()
	in := intake.New(intake.NewStore(dead, newKeys(t)), newQueue(t, dead, asynq.RedisClientOpt{Addr: "127.0.0.1:1"}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	rc, err := in.Submit(context.Background(), intake.Report{Org: "x", Body: "a weapon in a locker"})
	require.ErrorIs(t, err, intake.ErrUnavailable)
	require.Empty(t, rc.Token)
}

func TestStoredTipSurvivesQueueFailure(t *testing.T) {
	rdb := redistest.New(t, db)
	keys := newKeys(t)
	store := intake.NewStore(rdb, keys)
	logs := &bytes.Buffer{}
	// The store works but the queue's Redis does not: the tip is durable,
	// so the reporter gets a token and the sweeper finds the tip.
	in := intake.New(store, newQueue(t, rdb, asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond}), slog.New(slog.NewTextHandler(logs, nil)))
	rc, err := in.Submit(context.Background(), intake.Report{Org: "x", Body: "a knife in his bag today"})
	require.NoError(t, err)
	require.NotEmpty(t, rc.Token)
	ids, err := store.Received(context.Background(), time.Now().Add(time.Second), 10)
	require.NoError(t, err)
	require.Equal(t, []string{rc.TipID}, ids)
	require.NotContains(t, logs.String(), "knife")
}

func TestKeyRotation(t *testing.T) {
	old := intake.Key{ID: "old", Secret: intake.NewKeySecret()}
	hash := intake.NewKeySecret()
	k1, err := intake.NewKeyring([]intake.Key{old}, hash)
	require.NoError(t, err)
	sealed := k1.Seal("secret text", "tip1")
	require.True(t, strings.HasPrefix(sealed, "old:"))

	k2, err := intake.NewKeyring([]intake.Key{{ID: "new", Secret: intake.NewKeySecret()}, old}, hash)
	require.NoError(t, err)
	got, err := k2.Open(sealed, "tip1")
	require.NoError(t, err, "a rotated keyring must still open values sealed with the old key")
	require.Equal(t, "secret text", got)
	require.True(t, strings.HasPrefix(k2.Seal("x", "tip1"), "new:"))
	require.Equal(t, k1.Hash("token", "ABC"), k2.Hash("token", "ABC"), "hashes must not change when encryption keys rotate")

	_, err = k2.Open(sealed, "tip2")
	require.Error(t, err, "a value moved to another tip must not open")
	_, err = intake.NewKeyring([]intake.Key{{ID: "short", Secret: []byte("short")}}, hash)
	require.Error(t, err)
	require.False(t, errors.Is(err, nil))
}
