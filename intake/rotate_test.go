package intake_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/notify"
)

// TestRotateReseals: after `keys rotate` with a new key first, every value
// the old key sealed (tip fields, images, messages, notes, the outcome
// note, an SMS reporter's number) is sealed with the new key, and all of
// it still reads once the old key is gone.
func TestRotateReseals(t *testing.T) {
	f := newSMSFixture(t) // seals with k1
	ctx := context.Background()
	old := intake.Key{ID: "k1", Secret: intake.NewKeySecret()}
	hashKey := intake.NewKeySecret()
	ring := func(keys ...intake.Key) *intake.Keyring {
		kr, err := intake.NewKeyring(keys, hashKey)
		require.NoError(t, err)
		return kr
	}
	// The fixture's own k1 is random; rebuild its parts on a known k1.
	f.keys = ring(old)
	f.store = intake.NewStore(f.rdb, f.keys)
	f.intake = intake.New(f.store, newQueue(t, f.rdb, redistest.AsynqOpt(db)), slog.New(slog.DiscardHandler))
	sender, err := notify.NewTwilio(f.tw.SID, f.tw.Token, "+15555550000", f.tw.URL)
	require.NoError(t, err)
	tasks := asynq.NewClient(redistest.AsynqOpt(db))
	t.Cleanup(func() { tasks.Close() })
	f.sms = intake.NewSMS(f.intake, tasks, sender)

	img := intake.JPEGWithMetadata(t, intake.Halves(40, 30), binary.BigEndian, 1)
	web, err := f.intake.Submit(ctx, intake.Report{Org: "lincoln-high", Body: "Priya was pushed down the stairs",
		Location: "east stairwell", When: "Monday", Subject: "two 8th graders", Contact: "priya.friend@example.org", Images: [][]byte{img}})
	require.NoError(t, err)
	require.NoError(t, f.intake.Reply(ctx, web.Token.String(), "it happened again today"))
	require.NoError(t, f.intake.AddNote(ctx, web.TipID, "Ana", "called the family"))
	require.NoError(t, f.intake.Close(ctx, web.TipID, "Ana", intake.Closing{Outcome: "support_plan", Note: "safety plan agreed"}))
	sms := f.text(t, "SM1", "someone is selling vapes behind the gym")
	require.True(t, sms.New)
	require.NoError(t, f.sms.MessageReporter(ctx, sms.TipID, "which day was this?"))
	before := sealedCount(t, f, "k1:")
	require.GreaterOrEqual(t, before, 10, "values sealed with k1 before the rotation")

	// Rotate with k2 first, k1 still there to open the old values.
	newKey := intake.Key{ID: "k2", Secret: intake.NewKeySecret()}
	rot, err := intake.NewStore(f.rdb, ring(newKey, old)).Rotate(ctx)
	require.NoError(t, err)
	require.Empty(t, rot.Unopened)
	require.Equal(t, before, rot.Resealed, "every k1 value re-sealed")
	require.Zero(t, sealedCount(t, f, "k1:"), "no value is sealed with k1 any more")
	again, err := intake.NewStore(f.rdb, ring(newKey, old)).Rotate(ctx)
	require.NoError(t, err)
	require.Zero(t, again.Resealed, "a second rotation has nothing to do")
	require.Equal(t, before, again.Current)

	// k1 removed: everything reads with k2 alone.
	store := intake.NewStore(f.rdb, ring(newKey))
	in := intake.New(store, newQueue(t, f.rdb, redistest.AsynqOpt(db)), slog.New(slog.DiscardHandler))
	tip, err := store.Tip(ctx, web.TipID)
	require.NoError(t, err)
	require.Equal(t, "Priya was pushed down the stairs", tip.Body)
	require.Equal(t, "east stairwell", tip.Location)
	require.Equal(t, "priya.friend@example.org", tip.Contact)
	images, err := store.Images(ctx, web.TipID)
	require.NoError(t, err)
	require.Len(t, images, 1)
	fu, err := in.Followup(ctx, web.Token.String())
	require.NoError(t, err)
	require.Equal(t, "it happened again today", fu.Messages[0].Body)
	notes, err := store.Notes(ctx, web.TipID)
	require.NoError(t, err)
	require.Equal(t, "called the family", notes[0].Body)
	c, err := store.Case(ctx, web.TipID)
	require.NoError(t, err)
	require.Equal(t, "safety plan agreed", c.OutcomeNote)

	// The SMS reporter's number, sealed in the conversation, still works:
	// the reviewer's question is texted to it.
	smsIn := intake.NewSMS(in, tasks, sender)
	require.NoError(t, smsIn.ProcessTask(ctx, asynq.NewTask(intake.TypeText, []byte(fmt.Sprintf(`{"tip_id":%q,"msg":0}`, sms.TipID)))))
	var texted bool
	for _, m := range f.tw.Messages() {
		texted = texted || (m.To == phone && strings.Contains(m.Body, "which day was this?"))
	}
	require.True(t, texted, "the question reached the reporter's phone: %v", f.tw.Messages())
}

// sealedCount counts the values in Redis sealed with a key, by its prefix
// ("k1:"), including those inside JSON records.
func sealedCount(t *testing.T, f *smsFixture, prefix string) int {
	ctx := context.Background()
	n := 0
	count := func(v string) {
		if strings.HasPrefix(v, prefix) {
			n++
		}
		n += strings.Count(v, `"`+prefix)
	}
	for _, k := range f.rdb.Keys(ctx, "*").Val() {
		if strings.HasPrefix(k, "asynq:") {
			continue
		}
		switch f.rdb.Type(ctx, k).Val() {
		case "string":
			count(f.rdb.Get(ctx, k).Val())
		case "hash":
			for _, v := range f.rdb.HGetAll(ctx, k).Val() {
				count(v)
			}
		case "list":
			for _, v := range f.rdb.LRange(ctx, k, 0, -1).Val() {
				count(v)
			}
		}
	}
	return n
}
