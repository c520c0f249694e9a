package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/intake/timeline"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/notify/twiliotest"
	"github.com/tipline/tipline/web"
)

const (
	smsURL      = "https://tips.example.org/sms/twilio"
	smsReporter = "+15555550188"
	smsReviewer = "+15555550101"
	voiceURL    = "https://tips.example.org/voice/twilio/ack"
)

// withSMS turns the SMS channel on, with Twilio at a local server.
func withSMS(t *testing.T, tw *twiliotest.Server, sms **intake.SMS, pg **notify.Pager) option {
	return func(cfg *web.Config, f *fixture) {
		sender, err := notify.NewTwilio(tw.SID, tw.Token, "+15555550000", tw.URL)
		require.NoError(t, err)
		client := asynq.NewClient(redistest.AsynqOpt(3))
		t.Cleanup(func() { client.Close() })
		*sms = intake.NewSMS(cfg.Intake, client, sender)
		*pg = notify.NewPager(notify.Config{
			Redis: cfg.Redis, Queue: client, Phone: sender, PublicURL: "https://tips.example.org",
			Teams: []notify.Team{{ID: "north", Name: "North", OnCall: []notify.Reviewer{{Name: "Ana", Phone: smsReviewer}}}},
		})
		cfg.SMS = &web.SMS{
			Channel: *sms, Twilio: sender, AuthToken: tw.Token, WebhookURL: smsURL, VoiceURL: voiceURL,
			StatusURL: "https://tips.example.org/sms/twilio/status",
			OrgForNumber: func(to string) string {
				if to == "+15555550001" {
					return "north-high"
				}
				return ""
			},
			Reviewers: *pg,
		}
	}
}

type smsFixture struct {
	*fixture
	tw  *twiliotest.Server
	sms *intake.SMS
	pg  *notify.Pager
}

func newSMSFixture(t *testing.T) *smsFixture {
	tw := twiliotest.New("AC0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef")
	t.Cleanup(tw.Close)
	f := &smsFixture{tw: tw}
	f.fixture = newFixture(t, withSMS(t, tw, &f.sms, &f.pg))
	return f
}

// text posts a webhook signed as Twilio signs it.
func (f *smsFixture) text(t *testing.T, sid, body string, extra ...string) *httptest.ResponseRecorder {
	t.Helper()
	form := url.Values{"MessageSid": {sid}, "From": {smsReporter}, "To": {"+15555550001"}, "Body": {body}, "NumMedia": {"0"}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return f.post(form, twiliotest.Sign(f.tw.Token, smsURL, form))
}

func (f *smsFixture) post(form url.Values, signature string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/sms/twilio", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		req.Header.Set("X-Twilio-Signature", signature)
	}
	req.Host = "attacker.example" // signatures are checked against the public URL, not this
	return f.serve(req)
}

var smsToken = regexp.MustCompile(`[0-9A-Z]{4}(-[0-9A-Z]{4}){3}`)

func TestSMSWebhookConversation(t *testing.T) {
	f := newSMSFixture(t)
	ctx := context.Background()

	rec := f.text(t, "SM1", "a kid has a knife in his backpack right now")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "text/xml", strings.Split(rec.Header().Get("Content-Type"), ";")[0])
	twiml := rec.Body.String()
	require.Contains(t, twiml, "<Response><Message>tipline: report received.")
	require.Contains(t, twiml, "911")
	token := smsToken.FindString(twiml)
	require.NotEmpty(t, token)

	rec = f.text(t, "SM2", "he is in room 204")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "added to your report")
	dup := f.text(t, "SM2", "he is in room 204")
	require.Equal(t, http.StatusOK, dup.Code)
	require.NotContains(t, dup.Body.String(), "<Message>", "a retried delivery is answered with nothing")

	fu, err := f.in.Followup(ctx, token)
	require.NoError(t, err)
	require.Len(t, fu.Messages, 1, "the second text joined the first; its retry was stored once")
	tip, err := f.store.Tip(ctx, fu.TipID)
	require.NoError(t, err)
	require.Equal(t, intake.ChannelSMS, tip.Channel)
	require.Equal(t, "north-high", tip.Org, "the number texted decides the organisation")

	// The reviewer asks a question; it goes out by SMS through Twilio.
	require.NoError(t, f.sms.MessageReporter(ctx, fu.TipID, "Is he still in room 204?"))
	runTextTasks(t, f.sms)
	require.Len(t, f.tw.Messages(), 1)
	require.Equal(t, smsReporter, f.tw.Messages()[0].To)

	// STOP: no more texts.
	require.Contains(t, f.text(t, "SM3", "Stop").Body.String(), "no more texts")
	require.NoError(t, f.sms.MessageReporter(ctx, fu.TipID, "Are you safe?"))
	runTextTasks(t, f.sms)
	require.Len(t, f.tw.Messages(), 1, "nothing is texted after STOP")

	// The phone number is nowhere in Redis, nor in the logs.
	dump := redistest.Dump(t, f.rdb)
	for _, form := range []string{smsReporter, "5555550188", "555-0188"} {
		require.NotContains(t, dump, form)
		require.NotContains(t, f.logs.String(), form)
	}
}

// runTextTasks runs the SMS texts waiting in the high queue.
func runTextTasks(t *testing.T, sms *intake.SMS) {
	t.Helper()
	insp := asynq.NewInspector(redistest.AsynqOpt(3))
	defer insp.Close()
	tasks, err := insp.ListPendingTasks("high")
	require.NoError(t, err)
	for _, ti := range tasks {
		if ti.Type == intake.TypeText {
			require.NoError(t, sms.ProcessTask(context.Background(), asynq.NewTask(ti.Type, ti.Payload)))
			require.NoError(t, insp.DeleteTask("high", ti.ID))
		}
	}
}

func TestSMSWebhookRefusesForgeries(t *testing.T) {
	f := newSMSFixture(t)
	form := url.Values{"MessageSid": {"SM1"}, "From": {smsReporter}, "Body": {"fake"}}
	for name, sig := range map[string]string{
		"missing":        "",
		"wrong token":    twiliotest.Sign("ffffffffffffffffffffffffffffffff", smsURL, form),
		"other URL":      twiliotest.Sign(f.tw.Token, "https://attacker.example/sms/twilio", form),
		"other body":     twiliotest.Sign(f.tw.Token, smsURL, url.Values{"MessageSid": {"SM1"}, "From": {smsReporter}, "Body": {"other"}}),
		"garbage base64": "!!!",
	} {
		rec := f.post(form, sig)
		require.Equal(t, http.StatusForbidden, rec.Code, name)
	}
	require.Empty(t, redistest.Dump(t, f.rdb), "nothing stored from a forged webhook")
}

func TestSMSWebhookReviewerReplyIsNoTip(t *testing.T) {
	f := newSMSFixture(t)
	form := url.Values{"MessageSid": {"SM9"}, "From": {smsReviewer}, "Body": {"is this thing on"}}
	rec := f.post(form, twiliotest.Sign(f.tw.Token, smsURL, form))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "reply with its code and an a", "the reviewer learns how to acknowledge")
	require.Zero(t, f.pendingTasks(t), "a reviewer's reply never opens a tip")
}

// page pages the reviewer about a critical tip, running the paging tasks
// by hand, and returns the page's ack code.
func (f *smsFixture) page(t *testing.T, tip string) string {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, f.pg.Enqueue(ctx, notify.Page{TipID: tip, Team: "north", Urgency: "high", Org: "North High", Code: tip[:4]}))
	for _, typ := range []string{notify.TypeStep, notify.TypeSend} {
		for _, task := range redistest.Pending(t, 3, "high", typ) {
			require.NoError(t, f.pg.ProcessTask(ctx, asynq.NewTask(task.Type, task.Payload)))
		}
	}
	msgs := f.tw.Messages()
	require.NotEmpty(t, msgs)
	m := regexp.MustCompile(`Reply (\d+)a to acknowledge`).FindStringSubmatch(msgs[len(msgs)-1].Body)
	require.NotNil(t, m, msgs[len(msgs)-1].Body)
	return m[1]
}

func TestSMSWebhookReviewerAcknowledges(t *testing.T) {
	f := newSMSFixture(t)
	code := f.page(t, "TIPW000001")
	before := f.pendingTasks(t)
	form := url.Values{"MessageSid": {"SM10"}, "From": {smsReviewer}, "Body": {code + "a"}}
	rec := f.post(form, twiliotest.Sign(f.tw.Token, smsURL, form))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "acknowledged tip TIPW. Paging has stopped.")
	require.Equal(t, before, f.pendingTasks(t), "the acknowledgement opened no tip")
}

func TestDeliveryReportIsSignedAndRecorded(t *testing.T) {
	f := newSMSFixture(t)
	f.page(t, "TIPS000001")
	cb := f.tw.Messages()[0].StatusCallback
	require.NotEmpty(t, cb, "pages ask for delivery reports")
	u, err := url.Parse(cb)
	require.NoError(t, err)
	post := func(form url.Values, signedURL string) int {
		req := httptest.NewRequest(http.MethodPost, u.Path+"?"+u.RawQuery, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twiliotest.Sign(f.tw.Token, signedURL, form))
		return f.serve(req).Code
	}
	form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}}
	require.Equal(t, http.StatusForbidden, post(form, "https://tips.example.org/sms/twilio/status?esc=other"))
	require.Equal(t, http.StatusNoContent, post(form, cb))
	events, err := timeline.New(f.rdb).List(context.Background(), "TIPS000001")
	require.NoError(t, err)
	_, ok := timeline.First(events, timeline.Delivered)
	require.True(t, ok, "the delivery is on the tip's timeline")
}

func TestVoiceKeypressIsSignedAndAcknowledges(t *testing.T) {
	f := newSMSFixture(t)
	code := f.page(t, "TIPV000001")
	post := func(query string, form url.Values, signedURL string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/voice/twilio/ack?"+query, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if signedURL != "" {
			req.Header.Set("X-Twilio-Signature", twiliotest.Sign(f.tw.Token, signedURL, form))
		}
		return f.serve(req)
	}
	form := url.Values{"CallSid": {"CA1"}, "From": {"+15555550000"}, "To": {smsReviewer}, "Digits": {"1"}}
	require.Equal(t, http.StatusForbidden, post("code="+code, form, "").Code, "unsigned")
	require.Equal(t, http.StatusForbidden, post("code="+code, form, voiceURL+"?code=999").Code, "signed for another page")

	rec := post("code="+code, form, voiceURL+"?code="+code)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "<Say>Acknowledged.")
	rec = post("code="+code, form, voiceURL+"?code="+code)
	require.Contains(t, rec.Body.String(), "Already acknowledged by Ana")
}

func TestSMSWebhookMMS(t *testing.T) {
	f := newSMSFixture(t)
	ctx := context.Background()
	media := f.tw.AddMedia(pngImage(t))

	rec := f.text(t, "SM1", "this is the post he made", "NumMedia", "2",
		"MediaUrl0", media, "MediaContentType0", "image/png",
		"MediaUrl1", media+"-video", "MediaContentType1", "video/mp4")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	fu, err := f.in.Followup(ctx, smsToken.FindString(rec.Body.String()))
	require.NoError(t, err)
	imgs, err := f.store.Images(ctx, fu.TipID)
	require.NoError(t, err)
	require.Len(t, imgs, 1, "the picture is kept, cleaned")
	require.Equal(t, "image/png", imgs[0].ContentType)
	tip, err := f.store.Tip(ctx, fu.TipID)
	require.NoError(t, err)
	require.Contains(t, tip.Body, "[1 image(s) received, not kept]", "the video is noted, not kept")
}

func TestSMSWebhookOffWithoutTwilio(t *testing.T) {
	f := newFixture(t)
	rec := f.serve(httptest.NewRequest(http.MethodPost, "/sms/twilio", strings.NewReader("Body=x")))
	require.Equal(t, http.StatusNotImplemented, rec.Code)
}
