package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/web/account"
)

// accountsPage is the data of the admins' accounts page.
type accountsPage struct {
	reviewLayout
	Reviewers []*account.Reviewer
	Teams     []Team
	Roles     []account.Role
	Form      account.NewReviewer // as typed, kept after a refusal
	Error     string
	Notice    string
	Temp      string // a temporary password, shown once after add or reset
	TempFor   string // whose it is
}

// accountsAction is the path of one action on an account.
func accountsAction(id, action string) string { return "/review/accounts/" + id + "/" + action }

// reviewAccounts lists every account, with the form to add one.
func (h *handler) reviewAccounts(c echo.Context) error {
	return h.renderAccounts(c, http.StatusOK, &accountsPage{Form: account.NewReviewer{Role: account.RoleReviewer}})
}

// renderAccounts fills in the list and shows the page. Reading the list
// is recorded like any other view.
func (h *handler) renderAccounts(c echo.Context, status int, p *accountsPage) error {
	if err := h.audit(c, "accounts.view", "", ""); err != nil {
		return err
	}
	rs, err := h.accounts.List(c.Request().Context())
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	p.reviewLayout = reviewLayout{Title: "Accounts", Nav: "accounts"}
	p.Reviewers, p.Teams = rs, h.teams
	p.Roles = []account.Role{account.RoleReviewer, account.RoleLead, account.RoleAdmin}
	return h.renderReview(c, status, "review_accounts", p)
}

// reviewAccountAdd makes an account and shows its temporary password once.
func (h *handler) reviewAccountAdd(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	n := account.NewReviewer{Login: form.Get("login"), Name: form.Get("name"), Role: account.Role(form.Get("role")), Teams: form["team"]}
	p := &accountsPage{Form: n}
	for _, t := range n.Teams {
		if !slices.ContainsFunc(h.teams, func(ct Team) bool { return ct.ID == t }) {
			p.Error = "Choose teams from the list."
			return h.renderAccounts(c, http.StatusBadRequest, p)
		}
	}
	r, temp, err := h.accounts.Add(c.Request().Context(), n)
	switch {
	case errors.Is(err, account.ErrInvalid):
		p.Error = accountProblem(err)
		return h.renderAccounts(c, http.StatusBadRequest, p)
	case errors.Is(err, account.ErrLoginTaken):
		p.Error = "Another account has that login."
		return h.renderAccounts(c, http.StatusBadRequest, p)
	case err != nil:
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	if err := h.audit(c, "account.add", "", r.Login+" as "+string(r.Role)+" of "+strings.Join(r.Teams, ",")); err != nil {
		return err
	}
	return h.renderAccounts(c, http.StatusOK, &accountsPage{
		Form: account.NewReviewer{Role: account.RoleReviewer}, Temp: temp, TempFor: r.Login,
		Notice: "Added " + r.Login + ".",
	})
}

// accountProblem is what an admin is told about a refused field: the
// store's message without its package prefix.
func accountProblem(err error) string {
	msg := strings.TrimPrefix(err.Error(), account.ErrInvalid.Error()+": ")
	return "That will not do: " + msg + "."
}

// reviewAccountChange disables, enables or resets an account, or ends
// its sessions. An admin cannot do the first three to their own account:
// that is how the last admin locks everyone out.
func (h *handler) reviewAccountChange(c echo.Context) error {
	ctx := c.Request().Context()
	target, err := h.accounts.Get(ctx, c.Param("id"))
	if errors.Is(err, account.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	action := c.Param("action")
	self := target.ID == reviewerOf(c).ID
	p := &accountsPage{Form: account.NewReviewer{Role: account.RoleReviewer}}
	switch action {
	case "disable", "enable", "reset":
		if self {
			p.Error = "You cannot " + action + " your own account here; another admin or the command line can."
			return h.renderAccounts(c, http.StatusBadRequest, p)
		}
	case "signout":
	default:
		return echo.NewHTTPError(http.StatusNotFound)
	}
	switch action {
	case "disable", "enable":
		err = h.accounts.SetDisabled(ctx, target.ID, action == "disable")
		p.Notice = strings.ToUpper(action[:1]) + action[1:] + "d " + target.Login + "."
	case "reset":
		p.Temp, err = h.accounts.Reset(ctx, target.ID)
		p.TempFor = target.Login
		p.Notice = "Reset " + target.Login + ": every session ended; a new password and code are set up at the next sign-in."
	case "signout":
		err = h.accounts.EndSessions(ctx, target.ID)
		p.Notice = "Signed " + target.Login + " out everywhere."
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	if err := h.audit(c, "account."+action, "", target.Login); err != nil {
		return err
	}
	if self && action == "signout" {
		h.clearSession(c)
		return c.Redirect(http.StatusSeeOther, "/review/signin?out=1")
	}
	return h.renderAccounts(c, http.StatusOK, p)
}
