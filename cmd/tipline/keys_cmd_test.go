package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/internal/redistest"
)

// TestKeysRotate is the rotation an admin runs: a new key first in
// TIPLINE_KEYS, `tipline keys rotate`, then the old key removed; the
// report stored under the old key still answers its token.
func TestKeysRotate(t *testing.T) {
	e := testEnv(t, nil)
	s := startServer(t, e)
	code, out := postJSON(t, s.url+"/api/v1/reports", map[string]any{"org": "lincoln-high", "body": "kids vape in the bathroom", "location": "gym"})
	require.Equal(t, http.StatusCreated, code)
	token := out["token"].(string)
	require.NoError(t, s.stop())

	var fresh bytes.Buffer
	require.NoError(t, run([]string{"keys", "generate"}, nil, &fresh, io.Discard, env{}.get))
	newKey := strings.TrimPrefix(strings.Split(fresh.String(), "\n")[0], "TIPLINE_KEYS=")
	newKey = "k2" + newKey[strings.IndexByte(newKey, ':'):]
	e["TIPLINE_KEYS"] = newKey + "," + e["TIPLINE_KEYS"]
	var report bytes.Buffer
	require.NoError(t, run([]string{"keys", "rotate"}, nil, &report, io.Discard, e.get))
	require.Regexp(t, `^re-sealed [1-9][0-9]* values with key k2`, report.String())

	e["TIPLINE_KEYS"] = newKey // the old key is gone
	st, err := loadSettings(e.get)
	require.NoError(t, err)
	keys, err := intake.NewKeyring(st.Keys, st.HashKey)
	require.NoError(t, err)
	rdb := redis.NewClient(redistest.Options(db))
	defer rdb.Close()
	fu, err := intake.New(intake.NewStore(rdb, keys), nil, slog.New(slog.DiscardHandler)).Followup(context.Background(), token)
	require.NoError(t, err, "the report reads with the new key alone")
	tip, err := intake.NewStore(rdb, keys).Tip(context.Background(), fu.TipID)
	require.NoError(t, err)
	require.Equal(t, "kids vape in the bathroom", tip.Body)
	require.Equal(t, "gym", tip.Location)

	require.Error(t, run([]string{"keys", "rotate"}, nil, io.Discard, io.Discard, env{}.get), "no REDIS_URL: nothing to rotate")
}
