package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// noMatchPage is the one answer to any token that finds no report, whatever
// was wrong with it, so that answers teach a guesser nothing.
const noMatchPage = "No report matches that token. Check it and try again."

// lookupFailedPage says a token could not be checked for reasons of ours.
const lookupFailedPage = "We could not look up your report just now. Please try again in a moment. If someone is in danger right now, call 911."

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

// statusWords says a status in plain words: a name and what it means.
func statusWords(s intake.Status) (string, string) {
	switch s {
	case intake.StatusReceived:
		return "Received", "Your report has arrived and is waiting for the team to read it."
	case intake.StatusAssigned:
		return "With the team", "Your report has been passed to the team that handles it. They will read it soon."
	case intake.StatusInReview:
		return "Being looked into", "A member of the team is looking into your report. Check back here for their questions."
	case intake.StatusClosed:
		return "Closed", "The team has finished with your report. Thank you for speaking up. You can still add a message below."
	}
	return "Received", "Your report is with the team."
}

// newFollowupView turns what intake returns into what the page shows.
func newFollowupView(fu *intake.Followup) *followupView {
	name, text := statusWords(fu.Status)
	v := &followupView{StatusName: name, StatusText: text}
	for _, m := range fu.Messages {
		from := "The team"
		if m.From == intake.FromReporter {
			from = "You"
		}
		v.Messages = append(v.Messages, messageView{
			Mine: m.From == intake.FromReporter,
			From: from,
			Body: m.Body,
			At:   m.At.UTC().Format("Mon 2 Jan 2006, 15:04 UTC"),
			ISO:  m.At.UTC().Format(time.RFC3339),
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
	return h.render(c, http.StatusOK, "followup", followupPage{
		layout: layout{Title: "Check on a report", CSRF: csrfToken(c)},
	})
}

// followupShow shows the status and conversation of a token's report.
func (h *handler) followupShow(c echo.Context) error {
	token := c.FormValue("token")
	fu, err := h.intake.Followup(c.Request().Context(), token)
	if err != nil {
		return h.followupFailed(c, token, err)
	}
	return h.render(c, http.StatusOK, "followup", followupPage{
		layout:     layout{Title: "Your report", CSRF: csrfToken(c)},
		View:       newFollowupView(fu),
		ReplyToken: displayToken(token),
		Once:       newOnce(),
	})
}

// followupFailed shows the token form again after a look-up failed: the
// same words for every token that is not a report's, another message when
// the fault is ours.
func (h *handler) followupFailed(c echo.Context, typed string, err error) error {
	p := followupPage{
		layout: layout{Title: "Check on a report", CSRF: csrfToken(c)},
		Typed:  typed,
	}
	if errors.Is(err, intake.ErrNotFound) {
		p.Problem = noMatchPage
		return h.render(c, http.StatusNotFound, "followup", p)
	}
	h.log.Error("follow-up look-up failed", "err", err)
	p.Problem = lookupFailedPage
	return h.render(c, http.StatusServiceUnavailable, "followup", p)
}
