package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Text messages: a reporter's phone number is kept only sealed, inside the
// conversation record, and found again by its keyed hash. The record, and
// with it the number, expires when the conversation has been quiet for
// conversationTTL, or is deleted when the reporter texts STOP.

// conversationTTL is how long an SMS conversation stays open after its last
// text. A reporter who texts after that opens a new tip.
const conversationTTL = 14 * 24 * time.Hour

// smsPerHour bounds how many texts one phone may send in an hour; the rest
// are dropped without an answer, so a flood costs nothing to send back.
const smsPerHour = 30

// maxTipImages bounds the pictures one SMS conversation can add to its tip,
// so a phone cannot fill Redis a few pictures at a time.
const maxTipImages = 10

// OrgUnlisted is the organisation of a tip whose channel could not say
// which organisation it is for; triage sends it to the default team.
const OrgUnlisted = "unlisted"

const purposePhone = "phone"

func keySMSConv(phoneHash string) string  { return "sms:conv:" + phoneHash }
func keySMSStop(phoneHash string) string  { return "sms:stop:" + phoneHash }
func keySMSBlock(phoneHash string) string { return "sms:block:" + phoneHash }
func keySMSSeen(sidHash string) string    { return "sms:sid:" + sidHash }
func keySMSRate(phoneHash string, hour int64) string {
	return "sms:rate:" + phoneHash + ":" + strconv.FormatInt(hour, 10)
}
func keySMSSent(tipID string, msg int) string {
	return "sms:sent:{" + tipID + "}:" + strconv.Itoa(msg)
}

// Inbound is one text message as the SMS webhook received it.
type Inbound struct {
	From       string // the reporter's number: never stored or logged in the clear
	MessageSID string // Twilio's ID: a retried delivery carries the same one
	Body       string
	Org        string   // the organisation the receiving number serves, if any
	Images     [][]byte // attachments fetched from Twilio
	NotKept    int      // attachments that could not be fetched or kept
}

// SMSAnswer is what to text back, if anything, and what became of the text.
type SMSAnswer struct {
	Text  string // empty: answer nothing
	TipID string // the tip the text opened or joined, if any
	New   bool   // the text opened a new tip
}

// TextSender sends one text message. notify's Twilio sender and dev outbox
// are the real ones.
type TextSender interface {
	Send(ctx context.Context, to, body string) error
}

// SMS is the text-message channel: it takes texts in, keeps each phone's
// conversation, and texts reviewers' messages back.
type SMS struct {
	in     *Intake
	tasks  *asynq.Client
	sender TextSender
}

// NewSMS returns the SMS channel of in. Texts to reporters are queued on
// tasks and sent through sender.
func NewSMS(in *Intake, tasks *asynq.Client, sender TextSender) *SMS {
	return &SMS{in: in, tasks: tasks, sender: sender}
}

// PhoneHash is the keyed hash a phone number is known by: in the
// conversation keys, in logs about floods, and to admins who block a number
// without ever seeing it.
func (s *SMS) PhoneHash(phone string) string {
	return s.in.store.keys.Hash(purposePhone, strings.TrimSpace(phone))
}

// Receive takes one text: keywords, a new tip, or a reporter message on the
// open conversation's tip. A delivery Twilio retries is taken once.
func (s *SMS) Receive(ctx context.Context, m Inbound) (SMSAnswer, error) {
	in := s.in
	rdb := in.store.rdb
	ph := s.PhoneHash(m.From)
	lang := smsLanguage(m.Body)

	if m.MessageSID != "" {
		first, err := rdb.SetNX(ctx, keySMSSeen(in.store.keys.Hash("sms-sid", m.MessageSID)), 1, 48*time.Hour).Result()
		if err != nil {
			return SMSAnswer{}, fmt.Errorf("%w: sms: %w", ErrUnavailable, err)
		}
		if !first {
			return SMSAnswer{}, nil // Twilio retried a delivery already taken
		}
	}
	answer, err := s.receive(ctx, m, ph, lang)
	if err != nil && m.MessageSID != "" {
		// Let Twilio's retry be taken, since this one was not.
		rdb.Del(context.WithoutCancel(ctx), keySMSSeen(in.store.keys.Hash("sms-sid", m.MessageSID)))
	}
	return answer, err
}

func (s *SMS) receive(ctx context.Context, m Inbound, ph string, lang string) (SMSAnswer, error) {
	in := s.in
	rdb := in.store.rdb
	var blocked, stopped, count *redis.IntCmd
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		blocked = p.Exists(ctx, keySMSBlock(ph))
		stopped = p.Exists(ctx, keySMSStop(ph))
		key := keySMSRate(ph, in.now().Unix()/3600)
		count = p.Incr(ctx, key)
		p.Expire(ctx, key, 2*time.Hour)
		return nil
	})
	if err != nil {
		return SMSAnswer{}, fmt.Errorf("%w: sms: %w", ErrUnavailable, err)
	}
	if blocked.Val() > 0 {
		return SMSAnswer{}, nil
	}
	if count.Val() > smsPerHour {
		in.log.Warn("sms flood: texts dropped", "phone_hash", ph, "this_hour", count.Val())
		return SMSAnswer{}, nil
	}

	switch keyword(m.Body) {
	case kwStop:
		// The conversation ends and the number with it: nothing is sent to
		// this phone again until it texts START.
		_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, keySMSStop(ph), 1, 0)
			p.Del(ctx, keySMSConv(ph))
			return nil
		})
		if err != nil {
			return SMSAnswer{}, fmt.Errorf("%w: sms stop: %w", ErrUnavailable, err)
		}
		return SMSAnswer{Text: smsText(lang, "stop")}, nil
	case kwStart:
		if err := rdb.Del(ctx, keySMSStop(ph)).Err(); err != nil {
			return SMSAnswer{}, fmt.Errorf("%w: sms start: %w", ErrUnavailable, err)
		}
		return SMSAnswer{Text: smsText(lang, "start")}, nil
	case kwHelp:
		return SMSAnswer{Text: smsText("en", "help") + "\n" + smsText("es", "help")}, nil
	}

	body := strings.TrimSpace(m.Body)
	if m.NotKept > 0 {
		note := fmt.Sprintf("[%d image(s) received, not kept]", m.NotKept)
		body = strings.TrimSpace(body + "\n" + note)
	}
	if body == "" && len(m.Images) == 0 {
		return SMSAnswer{Text: smsText(lang, "empty")}, nil
	}
	say := func(key string) string {
		if stopped.Val() > 0 {
			return "" // the reporter asked for no texts
		}
		return smsText(lang, key)
	}

	// A text on an open conversation joins its tip.
	if id, err := rdb.HGet(ctx, keySMSConv(ph), "tip").Result(); err == nil {
		t, err := in.store.Tip(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			// The tip was purged: the text opens a new one below.
		case err != nil:
			return SMSAnswer{}, err
		case t.Status != StatusClosed:
			images, err := in.cleanImages(ctx, m.Images)
			if err != nil {
				images = nil
			}
			if room := max(maxTipImages-t.Images, 0); len(images) > room {
				images = images[:room]
			}
			if dropped := len(m.Images) - len(images); dropped > 0 {
				body = strings.TrimSpace(body + fmt.Sprintf("\n[%d image(s) received, not kept]", dropped))
			}
			if err := in.store.addImages(ctx, id, images); err != nil {
				return SMSAnswer{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
			if body == "" {
				body = fmt.Sprintf("[%d image(s) added]", len(images))
			}
			text, err := in.clean.clean(fieldMessage, body)
			if err != nil {
				return SMSAnswer{Text: smsText(lang, "invalid")}, nil
			}
			if err := in.store.AddMessage(ctx, id, Message{From: FromReporter, Body: text, At: in.now().UTC()}); err != nil {
				return SMSAnswer{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
			if err := rdb.Expire(ctx, keySMSConv(ph), conversationTTL).Err(); err != nil {
				in.log.Warn("sms conversation not extended", "err", err)
			}
			return SMSAnswer{Text: say("added"), TipID: id}, nil
		}
	} else if !errors.Is(err, redis.Nil) {
		return SMSAnswer{}, fmt.Errorf("%w: sms: %w", ErrUnavailable, err)
	}

	org := m.Org
	if org == "" {
		org = OrgUnlisted
	}
	if body == "" {
		body = "[image only]"
	}
	rc, err := in.Submit(ctx, Report{Channel: ChannelSMS, Org: org, Body: body, Images: m.Images})
	var fe *FieldError
	if errors.As(err, &fe) && fe.Field == "images" {
		// A picture that cannot be kept must not cost the report: keep
		// the words, and note the pictures.
		body = strings.TrimSpace(body + fmt.Sprintf("\n[%d image(s) received, not kept]", len(m.Images)))
		rc, err = in.Submit(ctx, Report{Channel: ChannelSMS, Org: org, Body: body})
	}
	switch {
	case errors.As(err, &fe):
		return SMSAnswer{Text: smsText(lang, "invalid")}, nil
	case err != nil:
		return SMSAnswer{}, err
	}
	_, err = rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, keySMSConv(ph), "tip", rc.TipID, "phone", in.store.keys.Seal(m.From, ph))
		p.Expire(ctx, keySMSConv(ph), conversationTTL)
		p.HSet(ctx, keyTip(rc.TipID), "sms", ph)
		return nil
	})
	if err != nil {
		// The tip is stored and queued; only texting back later is lost.
		in.log.Error("sms conversation not recorded", "tip", rc.TipID, "err", err)
	}
	answer := SMSAnswer{TipID: rc.TipID, New: true}
	if stopped.Val() == 0 {
		answer.Text = strings.Replace(smsText(lang, "received"), "{token}", rc.Token.String(), 1)
	}
	return answer, nil
}

// Keywords carriers and Twilio recognise, in English and Spanish.
const (
	kwNone = iota
	kwStop
	kwStart
	kwHelp
)

func keyword(body string) int {
	w := strings.ToUpper(strings.TrimFunc(body, func(r rune) bool { return !unicode.IsLetter(r) }))
	switch w {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "PARAR", "ALTO", "DETENER", "BAJA":
		return kwStop
	case "START", "UNSTOP", "YES", "INICIAR", "ALTA":
		return kwStart
	case "HELP", "INFO", "AYUDA":
		return kwHelp
	}
	return kwNone
}

// smsLanguage guesses whether a text is Spanish, to answer in kind. A
// wrong guess costs little: both languages answer HELP.
func smsLanguage(body string) string {
	b := " " + strings.ToLower(body) + " "
	if strings.ContainsAny(b, "ñ¿¡áéíóú") {
		return "es"
	}
	for _, w := range []string{" hola ", " ayuda ", " por favor ", " escuela ", " tiene ", " quiere ", " va a ", " una ", " pistola ", " está ", " mi "} {
		if strings.Contains(b, w) {
			return "es"
		}
	}
	return "en"
}

// smsTexts are written to fit one GSM-7 segment (160 characters) with the
// token in; accents are left out of the Spanish for the same reason.
var smsTexts = map[string]map[string]string{
	"en": {
		"received": "tipline: report received. Your code: {token}. Text here to add details. Danger now: call 911. Crisis: call or text 988.",
		"added":    "tipline: added to your report. Danger now: call 911.",
		"stop":     "tipline: you will get no more texts from this number. Text START to resume. Danger now: call 911.",
		"start":    "tipline: texts resumed. Text what you saw to make a report.",
		"help":     "tipline takes anonymous safety reports. Text what you saw. Danger now: call 911. Crisis: call or text 988. Text STOP to end.",
		"empty":    "tipline: text what you saw or heard to make a report. Danger now: call 911.",
		"invalid":  "tipline: that text could not be read. Please send it again as plain text. Danger now: call 911.",
	},
	"es": {
		"received": "tipline: reporte recibido. Tu codigo: {token}. Escribe aqui para agregar datos. Peligro: llama al 911. Crisis: llama o textea al 988.",
		"added":    "tipline: agregado a tu reporte. Peligro: llama al 911.",
		"stop":     "tipline: no recibiras mas textos de este numero. Escribe START para volver. Peligro: llama al 911.",
		"start":    "tipline: textos activados. Escribe lo que viste para reportar.",
		"help":     "tipline recibe reportes anonimos. Escribe lo que viste. Peligro: llama al 911. Crisis: 988. Escribe STOP para terminar.",
		"empty":    "tipline: escribe lo que viste o escuchaste para reportar. Peligro: llama al 911.",
		"invalid":  "tipline: no pudimos leer ese texto. Envialo de nuevo como texto simple. Peligro: llama al 911.",
	},
}

func smsText(lang, key string) string {
	if s, ok := smsTexts[lang][key]; ok {
		return s
	}
	return smsTexts["en"][key]
}

// Block stops all texts from and to the phone known by this keyed hash;
// Unblock lifts it. Admins block floods without ever seeing the number.
func (s *SMS) Block(ctx context.Context, phoneHash string) error {
	return s.in.store.rdb.Set(ctx, keySMSBlock(phoneHash), 1, 0).Err()
}

// Unblock lets the phone known by this keyed hash text the line again.
func (s *SMS) Unblock(ctx context.Context, phoneHash string) error {
	return s.in.store.rdb.Del(ctx, keySMSBlock(phoneHash)).Err()
}

// TypeText is the task that texts a reviewer's message to an SMS reporter.
const TypeText = "intake:text"

// textPayload names the message by tip and position: neither the number
// nor the text travels in the task, which asynq keeps in Redis in the clear.
type textPayload struct {
	TipID string `json:"tip_id"`
	Msg   int    `json:"msg"`
}

// MessageReporter adds a reviewer's message to a tip's conversation. The
// reporter sees it when checking back with the token, and, for a tip that
// came by text and whose conversation is open, it is texted to them.
func (s *SMS) MessageReporter(ctx context.Context, tipID, body string) error {
	in := s.in
	text, err := in.clean.clean(fieldMessage, body)
	if err != nil {
		return err
	}
	n, err := in.store.addMessage(ctx, tipID, Message{From: FromReviewer, Body: text, At: in.now().UTC()})
	if err != nil {
		return err
	}
	ph, err := in.store.rdb.HGet(ctx, keyTip(tipID), "sms").Result()
	if errors.Is(err, redis.Nil) || ph == "" {
		return nil // a web tip: the reporter reads it on the follow-up page
	}
	if err != nil {
		return fmt.Errorf("intake: message reporter: %w", err)
	}
	b, _ := json.Marshal(textPayload{TipID: tipID, Msg: n - 1})
	_, err = s.tasks.EnqueueContext(ctx, asynq.NewTask(TypeText, b), asynq.Queue("high"),
		asynq.TaskID("text:"+tipID+":"+strconv.Itoa(n-1)), asynq.MaxRetry(20))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("intake: message reporter: %w", err)
	}
	return nil
}

// ProcessTask texts one reviewer message to its reporter, once. A reporter
// who texted STOP, or whose conversation has closed, is not texted.
// It is the handler of TypeText.
func (s *SMS) ProcessTask(ctx context.Context, task *asynq.Task) error {
	var p textPayload
	if err := json.Unmarshal(task.Payload(), &p); err != nil || p.TipID == "" {
		return fmt.Errorf("intake: text payload: %v: %w", err, asynq.SkipRetry)
	}
	rdb := s.in.store.rdb
	if n, err := rdb.Exists(ctx, keySMSSent(p.TipID, p.Msg)).Result(); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	ph, err := rdb.HGet(ctx, keyTip(p.TipID), "sms").Result()
	if err != nil {
		return fmt.Errorf("intake: text %s: no SMS conversation: %w", p.TipID, asynq.SkipRetry)
	}
	var conv *redis.MapStringStringCmd
	var stopped *redis.IntCmd
	_, err = rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		conv = pl.HGetAll(ctx, keySMSConv(ph))
		stopped = pl.Exists(ctx, keySMSStop(ph))
		return nil
	})
	if err != nil {
		return err
	}
	if stopped.Val() > 0 || conv.Val()["tip"] != p.TipID {
		return nil // STOP, or the conversation closed: the web follow-up still shows it
	}
	phone, err := s.in.store.keys.Open(conv.Val()["phone"], ph)
	if err != nil {
		return fmt.Errorf("intake: text %s: %v: %w", p.TipID, err, asynq.SkipRetry)
	}
	msgs, err := s.in.store.Messages(ctx, p.TipID)
	if err != nil {
		return err
	}
	if p.Msg < 0 || p.Msg >= len(msgs) {
		return fmt.Errorf("intake: text %s: no message %d: %w", p.TipID, p.Msg, asynq.SkipRetry)
	}
	if err := s.sender.Send(ctx, phone, "tipline: "+msgs[p.Msg].Body); err != nil {
		var perm interface{ Permanent() bool }
		if errors.As(err, &perm) && perm.Permanent() {
			return fmt.Errorf("intake: text %s: %w: %w", p.TipID, err, asynq.SkipRetry)
		}
		return fmt.Errorf("intake: text %s: %w", p.TipID, err)
	}
	return rdb.Set(ctx, keySMSSent(p.TipID, p.Msg), 1, 30*24*time.Hour).Err()
}
