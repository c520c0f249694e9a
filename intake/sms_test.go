package intake_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"regexp"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/notify/twiliotest"
)

const phone = "+15555550188"

var tokenInText = regexp.MustCompile(`[0-9A-Z]{4}(-[0-9A-Z]{4}){3}`)

type smsFixture struct {
	*fixture
	sms *intake.SMS
	tw  *twiliotest.Server
}

func newSMSFixture(t *testing.T) *smsFixture {
	f := newFixture(t)
	tw := twiliotest.New("AC0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef")
	t.Cleanup(tw.Close)
	sender, err := notify.NewTwilio(tw.SID, tw.Token, "+15555550000", tw.URL)
	require.NoError(t, err)
	client := asynq.NewClient(redistest.AsynqOpt(db))
	t.Cleanup(func() { client.Close() })
	return &smsFixture{fixture: f, sms: intake.NewSMS(f.intake, client, sender), tw: tw}
}

func (f *smsFixture) text(t *testing.T, sid, body string) intake.SMSAnswer {
	t.Helper()
	a, err := f.sms.Receive(context.Background(), intake.Inbound{From: phone, MessageSID: sid, Body: body})
	require.NoError(t, err)
	return a
}

func TestSMSConversation(t *testing.T) {
	f := newSMSFixture(t)
	ctx := context.Background()

	first := f.text(t, "SM1", "a kid at Lincoln has a gun in his locker")
	require.True(t, first.New)
	require.Contains(t, first.Text, "911")
	require.Contains(t, first.Text, "988")
	require.LessOrEqual(t, len(first.Text), 160, "the token reply fits one SMS segment: %q", first.Text)
	token := tokenInText.FindString(first.Text)
	require.NotEmpty(t, token, "answer %q has no token", first.Text)

	tip, err := f.store.Tip(ctx, first.TipID)
	require.NoError(t, err)
	require.Equal(t, intake.ChannelSMS, tip.Channel)
	require.Equal(t, intake.OrgUnlisted, tip.Org)

	second := f.text(t, "SM2", "his name is Tyler, 10th grade")
	require.False(t, second.New)
	require.Equal(t, first.TipID, second.TipID, "a second text joins the first")
	require.Empty(t, f.text(t, "SM2", "his name is Tyler, 10th grade"), "a retried delivery is taken once")

	fu, err := f.intake.Followup(ctx, token)
	require.NoError(t, err, "the SMS token works on the web too")
	require.Len(t, fu.Messages, 1)
	require.Equal(t, "his name is Tyler, 10th grade", fu.Messages[0].Body)

	// A reviewer's question goes out by SMS, once.
	require.NoError(t, f.sms.MessageReporter(ctx, first.TipID, "Thank you. Which locker number?"))
	task := textTask(t)
	require.NoError(t, f.sms.ProcessTask(ctx, task))
	require.NoError(t, f.sms.ProcessTask(ctx, task), "a retry does not text twice")
	msgs := f.tw.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, phone, msgs[0].To)
	require.Equal(t, "tipline: Thank you. Which locker number?", msgs[0].Body)

	// The number is nowhere in Redis or the logs in the clear.
	dump := redistest.Dump(t, f.rdb)
	for _, form := range []string{phone, "5555550188", "555-0188"} {
		require.NotContains(t, dump, form)
		require.NotContains(t, f.logs.String(), form)
	}
	require.NotContains(t, dump, "Tyler")
}

// textTask is the one TypeText task waiting in the high queue.
func textTask(t *testing.T) *asynq.Task {
	found := redistest.Pending(t, db, "high", intake.TypeText)
	require.Len(t, found, 1)
	require.NotContains(t, string(found[0].Payload), "locker", "the text never travels in the task")
	return asynq.NewTask(found[0].Type, found[0].Payload)
}

func TestSMSStopAndStart(t *testing.T) {
	f := newSMSFixture(t)
	ctx := context.Background()
	first := f.text(t, "SM1", "someone is selling vapes in the bathroom")
	stop := f.text(t, "SM2", "STOP")
	require.Contains(t, stop.Text, "no more texts")
	require.Empty(t, dumpKeys(t, f, "sms:conv:*"), "STOP deletes the conversation and the sealed number with it")

	require.NoError(t, f.sms.MessageReporter(ctx, first.TipID, "Which bathroom?"))
	tasks, err := asynq.NewInspector(redistest.AsynqOpt(db)).ListPendingTasks("high")
	require.NoError(t, err)
	for _, ti := range tasks {
		require.NoError(t, f.sms.ProcessTask(ctx, asynq.NewTask(ti.Type, ti.Payload)))
	}
	require.Empty(t, f.tw.Messages(), "no text after STOP")

	require.Contains(t, f.text(t, "SM3", "start").Text, "resumed")
	again := f.text(t, "SM4", "it is the 2nd floor one")
	require.True(t, again.New, "after STOP the conversation is gone: a new text is a new tip")
}

func TestSMSKeywordsAndLanguage(t *testing.T) {
	f := newSMSFixture(t)
	help := f.text(t, "SM1", " help ")
	require.Contains(t, help.Text, "anonymous")
	require.Contains(t, help.Text, "anonimos")
	require.Contains(t, help.Text, "911")
	require.Empty(t, help.TipID, "HELP opens no tip")

	es := f.text(t, "SM2", "hola, un chico tiene una pistola en la escuela")
	require.Contains(t, es.Text, "Tu codigo")
	require.LessOrEqual(t, len(es.Text), 160)
}

func TestSMSFloodAndBlock(t *testing.T) {
	f := newSMSFixture(t)
	ctx := context.Background()
	for i := range 30 {
		require.NotEmpty(t, f.text(t, fmt.Sprintf("SM%d", i), fmt.Sprintf("message %d", i)).Text)
	}
	require.Empty(t, f.text(t, "SM31", "message 31"), "the 31st text in an hour is dropped")
	require.Contains(t, f.logs.String(), f.sms.PhoneHash(phone), "the flood is logged by the number's keyed hash")

	// An admin blocks a number by its hash, without seeing it.
	other := "+15555550199"
	require.NoError(t, f.sms.Block(ctx, f.sms.PhoneHash(other)))
	a, err := f.sms.Receive(ctx, intake.Inbound{From: other, MessageSID: "SMB1", Body: "junk"})
	require.NoError(t, err)
	require.Empty(t, a, "a blocked number is neither answered nor stored")
	require.NoError(t, f.sms.Unblock(ctx, f.sms.PhoneHash(other)))
	a, err = f.sms.Receive(ctx, intake.Inbound{From: other, MessageSID: "SMB2", Body: "a real report"})
	require.NoError(t, err)
	require.True(t, a.New)
}

func dumpKeys(t *testing.T, f *smsFixture, pattern string) []string {
	keys, err := f.rdb.Keys(context.Background(), pattern).Result()
	require.NoError(t, err)
	return keys
}

func TestSMSTextRetriesOrGivesUp(t *testing.T) {
	f := newSMSFixture(t)
	ctx := context.Background()
	first := f.text(t, "SM1", "my friend posted a threat")
	require.NoError(t, f.sms.MessageReporter(ctx, first.TipID, "Can you send the post?"))
	task := textTask(t)

	f.tw.FailNext(503)
	err := f.sms.ProcessTask(ctx, task)
	require.Error(t, err)
	require.NotErrorIs(t, err, asynq.SkipRetry, "Twilio 5xx: asynq retries with backoff")
	f.tw.FailNext(429)
	require.NotErrorIs(t, f.sms.ProcessTask(ctx, task), asynq.SkipRetry, "Twilio 429: retried")
	require.NoError(t, f.sms.ProcessTask(ctx, task))
	require.Len(t, f.tw.Messages(), 1)

	require.NoError(t, f.sms.MessageReporter(ctx, first.TipID, "Are you there?"))
	tasks, err := asynq.NewInspector(redistest.AsynqOpt(db)).ListPendingTasks("high")
	require.NoError(t, err)
	f.tw.FailNext(400)
	last := tasks[len(tasks)-1]
	require.ErrorIs(t, f.sms.ProcessTask(ctx, asynq.NewTask(last.Type, last.Payload)), asynq.SkipRetry, "Twilio 4xx (bad number): not retried")
}

func TestSMSPicturesPerTipAreCapped(t *testing.T) {
	f := newSMSFixture(t)
	ctx := context.Background()
	first := f.text(t, "SM0", "he keeps posting pictures of a gun")
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 4))))
	pic := buf.Bytes()
	for i := 1; i <= 5; i++ {
		_, err := f.sms.Receive(ctx, intake.Inbound{From: phone, MessageSID: fmt.Sprintf("SM%d", i), Body: "another one", Images: [][]byte{pic, pic, pic}})
		require.NoError(t, err)
	}
	imgs, err := f.store.Images(ctx, first.TipID)
	require.NoError(t, err)
	require.Len(t, imgs, 10, "15 pictures sent, 10 kept")
	msgs, err := f.store.Messages(ctx, first.TipID)
	require.NoError(t, err)
	require.Contains(t, msgs[len(msgs)-1].Body, "[3 image(s) received, not kept]")
}
