package timeline_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake/timeline"
	"github.com/tipline/tipline/internal/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

func TestEventsComeBackInOrder(t *testing.T) {
	rdb := redistest.New(t, 7)
	l := timeline.New(rdb)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 9, 2, 0, 0, 0, time.UTC)
	require.NoError(t, l.Add(ctx, "T1", timeline.Event{At: t0, Kind: timeline.Received}))
	require.NoError(t, l.Add(ctx, "T1", timeline.Event{At: t0.Add(40 * time.Second), Kind: timeline.Acked, Actor: "Ana", Detail: "sms"}))
	require.NoError(t, l.Add(ctx, "T2", timeline.Event{Kind: timeline.Received}))

	got, err := l.List(ctx, "T1")
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, timeline.Received, got[0].Kind)
	require.Equal(t, "Ana", got[1].Actor)
	at, ok := timeline.First(got, timeline.Acked)
	require.True(t, ok)
	require.Equal(t, 40*time.Second, at.Sub(t0))
	_, ok = timeline.First(got, timeline.Closed)
	require.False(t, ok)

	none, err := l.List(ctx, "nobody")
	require.NoError(t, err)
	require.Empty(t, none)
}
