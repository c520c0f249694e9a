package web

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/web/account"
)

// Team is a team tips are routed to, as the config names it.
type Team struct {
	ID   string
	Name string
}

// ClusterReader lists the tips of a cluster (triage.Clusters), so a tip's
// page can show the other reports of the same incident.
type ClusterReader interface {
	Members(ctx context.Context, clusterID string) ([]string, error)
}

// ReporterMessenger sends a reviewer's message to a tip's reporter: on the
// follow-up page, and by text for a tip that came by text (intake.SMS).
type ReporterMessenger interface {
	MessageReporter(ctx context.Context, tipID, body string) error
}

// Acker tells the pager that a reviewer acknowledged a tip from the
// dashboard, so it stops escalating (notify.Pager).
type Acker interface {
	AckTip(ctx context.Context, tipID, reviewerName string) error
}

// reviewPostLimit bounds an action form: a note or message of 5,000
// characters of four bytes each, with room for the form's other fields.
const reviewPostLimit = 32 << 10

// reviewPages mounts the dashboard's pages behind sign-in: the queue, a
// tip, its actions, the figures and the case export. Every route that names
// a tip answers 404 for a tip the reviewer may not see, exactly as for one
// that does not exist.
func (h *handler) reviewPages(g *echo.Group) {
	post := middleware.BodyLimit(strconv.Itoa(reviewPostLimit))
	g.GET("", h.reviewQueue)
	g.GET("/", h.reviewQueue)
	g.GET("/queue", h.reviewQueueRows) // the queue's rows alone, for review.js
	g.GET("/clusters/:id", h.reviewCluster)
	g.GET("/tips/:id", h.reviewTip)
	g.GET("/tips/:id/images/:n", h.reviewImage)
	g.GET("/tips/:id/case", h.reviewCase)
	g.POST("/tips/:id/ack", h.reviewAck, post)
	g.POST("/tips/:id/assign", h.reviewAssign, post)
	g.POST("/tips/:id/status", h.reviewStatus, post)
	g.POST("/tips/:id/notes", h.reviewNote, post)
	g.POST("/tips/:id/messages", h.reviewMessage, post)
	g.POST("/tips/:id/close", h.reviewClose, post)
	g.GET("/figures", h.reviewFigures)
	g.GET("/figures.csv", h.reviewFiguresCSV)
}

// tipIDPattern is what a tip ID can look like; anything else is not
// looked up at all.
var tipIDPattern = regexp.MustCompile(`^[0-9A-Z]{1,32}$`)

// visibleTip loads the tip the route names if the signed-in reviewer may
// see it. A tip of another team is answered exactly as a missing one, so a
// reviewer cannot even learn that it exists.
func (h *handler) visibleTip(c echo.Context) (*intake.Tip, error) {
	id := c.Param("id")
	if !tipIDPattern.MatchString(id) {
		return nil, echo.ErrNotFound
	}
	t, err := h.intake.Store().Tip(c.Request().Context(), id)
	if errors.Is(err, intake.ErrNotFound) {
		return nil, echo.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !reviewerOf(c).Sees(t.Teams) {
		return nil, echo.ErrNotFound
	}
	return t, nil
}

// myTeams are the teams whose tips the reviewer sees: an admin sees every
// team's.
func (h *handler) myTeams(r *account.Reviewer) []string {
	if r.Role == account.RoleAdmin {
		ids := make([]string, 0, len(h.teams))
		for _, t := range h.teams {
			ids = append(ids, t.ID)
		}
		for _, t := range r.Teams {
			if !slices.Contains(ids, t) {
				ids = append(ids, t)
			}
		}
		return ids
	}
	return r.Teams
}

// teamName is a team's name from the config, or its ID.
func (h *handler) teamName(id string) string {
	for _, t := range h.teams {
		if t.ID == id {
			return t.Name
		}
	}
	return id
}

// reviewOrgName is an organisation's name, or a fixed word for a name the
// config does not list: an unknown organisation is what a reporter typed,
// and the dashboard does not echo it as if it were a real one.
func (h *handler) reviewOrgName(id string) string {
	if o, ok := intake.FindOrg(h.orgs, id); ok {
		return o.Name
	}
	return "Unlisted organisation"
}

// choiceName is the name of a closed-list entry, or its ID.
func choiceName(list []intake.Choice, id string) string {
	for _, c := range list {
		if c.ID == id {
			return c.Name
		}
	}
	return id
}

// categoryName is a category's name, or its ID.
func categoryName(id string) string {
	for _, c := range intake.Categories {
		if c.ID == id {
			return c.Name
		}
	}
	return id
}

// statusNames are the statuses as reviewers read them.
var statusNames = map[intake.Status]string{
	intake.StatusReceived: "Received",
	intake.StatusAssigned: "New for the team",
	intake.StatusInReview: "In review",
	intake.StatusClosed:   "Closed",
}

func statusName(s intake.Status) string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return string(s)
}

// urgencyRank orders urgencies, life-safety first; a tip not yet rated
// sorts with the critical ones, because nobody knows yet that it is not.
func urgencyRank(u string) int {
	switch u {
	case "critical", "":
		return 0
	case "high":
		return 1
	case "normal":
		return 2
	case "low":
		return 3
	}
	return 4
}

// badRequest is a 400 for a form a reviewer's browser could not have sent
// (a status or outcome not in the list).
func badRequest() error { return echo.NewHTTPError(http.StatusBadRequest) }
