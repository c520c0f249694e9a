package web

import (
	"bytes"
	"cmp"
	"net/url"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// queuePage is the reviewer's queue: their teams' tips, life-safety first.
type queuePage struct {
	reviewLayout
	Heading    string
	Rows       []queueRow
	Filter     queueFilter
	Teams      []Team // the teams the reviewer may filter by
	Statuses   []option
	Categories []option
	Refresh    string // the link that reloads this very view
	RowsURL    string // where review.js fetches the rows from
	Cluster    bool   // the page lists one cluster's reports
	Now        string
}

// option is an entry of a filter menu.
type option struct {
	Value, Name string
	Selected    bool
}

// queueRow is one line of the queue: a tip, or a cluster of reports of one
// incident shown as its most urgent, newest report with the count.
type queueRow struct {
	ID       string
	Code     string
	Urgency  string
	Received time.Time
	Org      string
	Team     string
	Category string
	Status   string
	Excerpt  string
	Assignee string
	Danger   bool
	Count    int    // reports in the cluster the reviewer can see, this one included
	Cluster  string // the cluster's page, when Count > 1
}

// queueFilter is the queue's GET form.
type queueFilter struct {
	Team     string
	Status   string // "open" (the default), "all", or a status
	Category string
}

// excerptLen is how much of a tip's text a queue row shows: enough to
// recognise it, not the whole story on a screen others may see.
const excerptLen = 120

func readQueueFilter(c echo.Context) queueFilter {
	f := queueFilter{Team: c.QueryParam("team"), Status: c.QueryParam("status"), Category: c.QueryParam("category")}
	if f.Status == "" {
		f.Status = "open"
	}
	return f
}

func (f queueFilter) query() string {
	v := url.Values{}
	if f.Team != "" {
		v.Set("team", f.Team)
	}
	if f.Status != "open" {
		v.Set("status", f.Status)
	}
	if f.Category != "" {
		v.Set("category", f.Category)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// statusFilter turns the status filter into the statuses it lists, or
// false for a value the menu does not offer.
func statusFilter(s string) ([]intake.Status, bool) {
	switch s {
	case "open":
		return []intake.Status{intake.StatusReceived, intake.StatusAssigned, intake.StatusInReview}, true
	case "all":
		return nil, true
	}
	st := intake.Status(s)
	if _, ok := statusNames[st]; ok {
		return []intake.Status{st}, true
	}
	return nil, false
}

// queueData builds the queue for the signed-in reviewer. A filter value
// that is not in its menu (another team's ID among them) is a 404, so a
// team filter cannot probe which teams exist.
func (h *handler) queueData(c echo.Context) (*queuePage, error) {
	r := reviewerOf(c)
	f := readQueueFilter(c)
	teams := h.myTeams(r)
	if f.Team != "" {
		if !slices.Contains(teams, f.Team) {
			return nil, echo.ErrNotFound
		}
		teams = []string{f.Team}
	}
	statuses, ok := statusFilter(f.Status)
	if !ok || (f.Category != "" && !intake.KnownCategory(f.Category)) {
		return nil, badRequest()
	}
	tips, err := h.intake.Store().TeamTips(c.Request().Context(), teams, intake.TipFilter{Statuses: statuses, Category: f.Category})
	if err != nil {
		return nil, err
	}
	rows := h.queueRows(tips, true)
	if err := h.withAssignees(c, rows); err != nil {
		return nil, err
	}
	p := &queuePage{
		reviewLayout: reviewLayout{Title: "Queue", Nav: "queue"},
		Heading:      "Queue",
		Rows:         rows,
		Filter:       f,
		Refresh:      "/review/" + f.query(),
		RowsURL:      "/review/queue" + f.query(),
		Now:          h.now().UTC().Format("15:04:05 UTC"),
	}
	for _, id := range h.myTeams(r) {
		p.Teams = append(p.Teams, Team{ID: id, Name: h.teamName(id)})
	}
	for _, s := range []struct{ v, n string }{{"open", "Open"}, {"all", "All"},
		{string(intake.StatusAssigned), statusName(intake.StatusAssigned)},
		{string(intake.StatusInReview), statusName(intake.StatusInReview)},
		{string(intake.StatusClosed), statusName(intake.StatusClosed)}} {
		p.Statuses = append(p.Statuses, option{Value: s.v, Name: s.n, Selected: s.v == f.Status})
	}
	for _, cat := range intake.Categories {
		p.Categories = append(p.Categories, option{Value: cat.ID, Name: cat.Name, Selected: cat.ID == f.Category})
	}
	return p, nil
}

// queueRows orders tips by urgency, then newest first, and, when grouping,
// folds each cluster into the row of its first tip in that order.
func (h *handler) queueRows(tips []*intake.Tip, group bool) []queueRow {
	slices.SortStableFunc(tips, func(a, b *intake.Tip) int {
		if d := cmp.Compare(urgencyRank(a.Urgency), urgencyRank(b.Urgency)); d != 0 {
			return d
		}
		return b.ReceivedAt.Compare(a.ReceivedAt)
	})
	rows := make([]queueRow, 0, len(tips))
	at := map[string]int{} // cluster ID -> its row
	for _, t := range tips {
		if group && t.Cluster != "" {
			if i, ok := at[t.Cluster]; ok {
				rows[i].Count++
				rows[i].Cluster = "/review/clusters/" + url.PathEscape(t.Cluster)
				continue
			}
			at[t.Cluster] = len(rows)
		}
		rows = append(rows, queueRow{
			ID: t.ID, Code: t.Code(), Urgency: t.Urgency, Received: t.ReceivedAt,
			Org: h.reviewOrgName(t.Org), Team: h.teamName(t.Team), Category: categoryName(t.RatedCategory()),
			Status: statusName(t.Status), Excerpt: excerpt(t.Body, excerptLen), Danger: t.Danger, Count: 1,
		})
	}
	return rows
}

// excerpt is the start of s, at most n characters, cut at a space when
// one is near the end.
func excerpt(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	for j := len(r) - 1; j > n/2; j-- {
		if r[j] == ' ' || r[j] == '\n' {
			r = r[:j]
			break
		}
	}
	return string(r) + "…"
}

// withAssignees fills in who carries each row's tip.
func (h *handler) withAssignees(c echo.Context, rows []queueRow) error {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	names, err := h.intake.Store().Assignees(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].Assignee = names[i]
	}
	return nil
}

// reviewQueue shows the queue. Without JavaScript its Refresh link reloads
// it; with it, review.js replaces the rows every 30 seconds.
func (h *handler) reviewQueue(c echo.Context) error {
	p, err := h.queueData(c)
	if err != nil {
		return err
	}
	if err := h.audit(c, "queue.view", "", p.Filter.query()); err != nil {
		return err
	}
	// The queue alone may fetch, and only from this site: review.js
	// fetches its rows. Every other page keeps connect-src at 'none'.
	c.Response().Header().Set(echo.HeaderContentSecurityPolicy, contentSecurityPolicy+"; connect-src 'self'")
	return h.renderReview(c, 200, "review_queue", p)
}

// reviewQueueRows answers the queue's rows alone, for review.js. It is a
// view like any other and is audited as one.
func (h *handler) reviewQueueRows(c echo.Context) error {
	p, err := h.queueData(c)
	if err != nil {
		return err
	}
	if err := h.audit(c, "queue.view", "", p.Filter.query()+" (refresh)"); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := h.review.byName["review_queue"].ExecuteTemplate(&buf, "rows", p); err != nil {
		return err
	}
	return c.HTMLBlob(200, buf.Bytes())
}

// reviewCluster lists the reports of one cluster that the reviewer may
// see. A cluster with none of them is a 404, whether or not it exists.
func (h *handler) reviewCluster(c echo.Context) error {
	id := c.Param("id")
	if h.clusters == nil || !tipIDPattern.MatchString(id) {
		return echo.ErrNotFound
	}
	tips, err := h.clusterTips(c, id, "")
	if err != nil {
		return err
	}
	if len(tips) == 0 {
		return echo.ErrNotFound
	}
	if err := h.audit(c, "cluster.view", "", id); err != nil {
		return err
	}
	rows := h.queueRows(tips, false)
	if err := h.withAssignees(c, rows); err != nil {
		return err
	}
	p := &queuePage{
		reviewLayout: reviewLayout{Title: "Related reports", Nav: "queue"},
		Heading:      "Related reports",
		Rows:         rows,
		Cluster:      true,
		Refresh:      c.Request().URL.Path,
		Now:          h.now().UTC().Format("15:04:05 UTC"),
	}
	return h.renderReview(c, 200, "review_queue", p)
}
