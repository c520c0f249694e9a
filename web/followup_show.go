package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// keyNoMatch is the one answer to any token that finds no report, whatever
// was wrong with it, so that answers teach a guesser nothing.
const keyNoMatch = "followup.problem.no_match"

// keyLookupFailed says a token could not be checked for reasons of ours.
const keyLookupFailed = "followup.problem.lookup_failed"

// Who wrote a message, as the reporter reads it.
const (
	keyFromTeam = "followup.from.team"
	keyFromYou  = "followup.from.you"
)

// followupPage is the data of the follow-up page: a token form, or a
// report's status and conversation with a reply form.
type followupPage struct {
	layout
	Typed      string        // the token as typed, to fix a typo in
	View       *followupView // the report found, if any
	Notice     string
	Problem    string
	ReplyToken string // set when the reply form is shown
	Reply      string // the reporter's reply text, kept when it was not added
	ReplyError string
	Once       string // names this filling-in of the reply form; see onceField
}

// followupView is a report as its reporter sees it.
type followupView struct {
	StatusName string
	StatusText string
	Messages   []messageView
}

// messageView is one message of the conversation, ready to show.
type messageView struct {
	Mine bool
	From string
	Body string
	At   string // for people
	ISO  string // for machines
}

// statusKeys are the keys of a status in plain words: a name and what it
// means.
func statusKeys(s intake.Status) (name, text string) {
	switch s {
	case intake.StatusReceived, intake.StatusAssigned, intake.StatusInReview, intake.StatusClosed:
		k := "status." + string(s)
		return k + ".name", k + ".text"
	}
	return "status.unknown.name", "status.unknown.text"
}

// followupView turns what intake returns into what the page shows, in lang.
func (h *handler) followupView(lang string, fu *intake.Followup) *followupView {
	name, text := statusKeys(fu.Status)
	v := &followupView{StatusName: h.msg(lang, name), StatusText: h.msg(lang, text)}
	for _, m := range fu.Messages {
		from := keyFromTeam
		if m.From == intake.FromReporter {
			from = keyFromYou
		}
		v.Messages = append(v.Messages, messageView{
			Mine: m.From == intake.FromReporter,
			From: h.msg(lang, from),
			Body: m.Body,
			// Numbers only, so the time reads the same in every language.
			At:  m.At.UTC().Format("2006-01-02 15:04 UTC"),
			ISO: m.At.UTC().Format(time.RFC3339),
		})
	}
	return v
}

// displayToken is a token as the reply form carries it: grouped, as the
// receipt showed it. The hidden field lives on a no-store page only.
func displayToken(typed string) string {
	if t, err := intake.ParseToken(typed); err == nil {
		return t.String()
	}
	return typed
}

// followupForm asks for a token.
func (h *handler) followupForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "followup", &followupPage{
		layout: layout{TitleKey: "followup.title.check", CSRF: csrfToken(c)},
	})
}

// followupShow shows the status and conversation of a token's report.
func (h *handler) followupShow(c echo.Context) error {
	token := c.FormValue("token")
	fu, err := h.intake.Followup(c.Request().Context(), token)
	if err != nil {
		return h.followupFailed(c, token, err)
	}
	return h.render(c, http.StatusOK, "followup", &followupPage{
		layout:     layout{TitleKey: "followup.title.report", CSRF: csrfToken(c)},
		View:       h.followupView(h.lang(c), fu),
		ReplyToken: displayToken(token),
		Once:       newOnce(),
	})
}

// followupFailed shows the token form again after a look-up failed: the
// same words for every token that is not a report's, another message when
// the fault is ours.
func (h *handler) followupFailed(c echo.Context, typed string, err error) error {
	lang := h.lang(c)
	p := &followupPage{
		layout: layout{TitleKey: "followup.title.check", CSRF: csrfToken(c)},
		Typed:  typed,
	}
	if errors.Is(err, intake.ErrNotFound) {
		p.Problem = h.msg(lang, keyNoMatch)
		return h.render(c, http.StatusNotFound, "followup", p)
	}
	h.log.Error("follow-up look-up failed", "err", err)
	p.Problem = h.msg(lang, keyLookupFailed)
	return h.render(c, http.StatusServiceUnavailable, "followup", p)
}
