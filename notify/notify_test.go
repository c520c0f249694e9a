package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/notify/twiliotest"
)

// db is notify's own database on the test Redis.
const db = 4

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

const (
	sid   = "AC00000000000000000000000000000001"
	token = "0123456789abcdef0123456789abcdef"
	from  = "+15555550000"
)

func TestTwilioSendsThroughAPI(t *testing.T) {
	tw := twiliotest.New(sid, token)
	defer tw.Close()
	s, err := notify.NewTwilio(sid, token, from, tw.URL)
	require.NoError(t, err)

	require.NoError(t, s.Send(context.Background(), "+15555550101", "hello"))
	got := tw.Messages()
	require.Len(t, got, 1)
	require.Equal(t, "+15555550101", got[0].To)
	require.Equal(t, from, got[0].From)
	require.Equal(t, "hello", got[0].Body)
}

func TestTwilioErrorsSortIntoRetryAndGiveUp(t *testing.T) {
	tw := twiliotest.New(sid, token)
	defer tw.Close()
	s, err := notify.NewTwilio(sid, token, from, tw.URL)
	require.NoError(t, err)
	ctx := context.Background()
	for _, tc := range []struct {
		status    int
		permanent bool
	}{{400, true}, {404, true}, {429, false}, {500, false}, {503, false}} {
		tw.FailNext(tc.status)
		err := s.Send(ctx, "+15555550101", "x")
		require.Error(t, err, "status %d", tc.status)
		require.Equal(t, tc.permanent, notify.Permanent(err), "status %d: permanent", tc.status)
	}
	wrong, err := notify.NewTwilio(sid, "ffffffffffffffffffffffffffffffff", from, tw.URL)
	require.NoError(t, err)
	require.True(t, notify.Permanent(wrong.Send(ctx, "+15555550101", "x")), "bad credentials will not fix themselves")

	unreachable, err := notify.NewTwilio(sid, token, from, "http://127.0.0.1:1")
	require.NoError(t, err)
	err = unreachable.Send(ctx, "+15555550101", "x")
	require.Error(t, err)
	require.False(t, notify.Permanent(err), "a network error is worth retrying")
}

func TestOutboxKeepsMaskedMessages(t *testing.T) {
	logs := &bytes.Buffer{}
	rdb := redistest.New(t, db)
	o := notify.NewOutbox(rdb, slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, o.Send(context.Background(), "+15555550101", "tipline HIGH tip ABC123"))
	msgs, err := o.Messages(context.Background())
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Equal(t, "tipline HIGH tip ABC123", msgs[0].Body)
	require.Equal(t, "…01", msgs[0].To)
	require.Contains(t, logs.String(), "tipline HIGH tip ABC123", "the console shows the page")
	require.NotContains(t, logs.String(), "5555550101")
}

func TestTwilioMedia(t *testing.T) {
	tw := twiliotest.New(sid, token)
	defer tw.Close()
	s, err := notify.NewTwilio(sid, token, from, tw.URL)
	require.NoError(t, err)
	ctx := context.Background()
	u := tw.AddMedia([]byte("\x89PNG\r\n\x1a\nfake"))
	got, err := s.Media(ctx, u, 1024)
	require.NoError(t, err)
	require.Equal(t, []byte("\x89PNG\r\n\x1a\nfake"), got)

	_, err = s.Media(ctx, u, 4)
	require.True(t, notify.Permanent(err), "too large: %v", err)
	_, err = s.Media(ctx, "https://attacker.example/x.png", 1024)
	require.True(t, notify.Permanent(err), "only Twilio's host: %v", err)
	_, err = s.Media(ctx, tw.URL+"/2010-04-01/Accounts/"+sid+"/Messages/MM1/Media/nope", 1024)
	require.True(t, notify.Permanent(err), "404: %v", err)
}
