package web

import (
	"encoding/csv"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/intake/timeline"
)

// Program figures: what DHS's BTAM guidance asks a program to evaluate
// itself with, counted from the tips' facts and timelines (no text is
// opened to count them). Leads see their teams' figures, admins every
// team's. Charts are SVG drawn here, so the page needs no JavaScript.

// count is one bar of a chart and one line of the CSV.
type count struct {
	Key   string
	Label string
	N     int
}

// figures are a set of tips' figures.
type figures struct {
	Tips       int
	Weeks      []count
	Categories []count
	Urgencies  []count
	// Time to acknowledge: from a tip's first page (or its receipt, for a
	// tip never paged) to its first acknowledgement.
	Acked     int
	AckMedian time.Duration
	AckP90    time.Duration
	Closed    int
	Outcomes  []count
	Referrals []count
	// Tips with two-way dialogue: at least one message from the team and
	// one from the reporter.
	TwoWay      int
	TwoWayShare float64
}

// weekStart is the Monday (UTC) of t's week.
func weekStart(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// ackTime is how long a tip waited to be acknowledged, if it was.
func ackTime(events []timeline.Event) (time.Duration, bool) {
	acked, ok := timeline.First(events, timeline.Acked)
	if !ok {
		return 0, false
	}
	start, ok := timeline.First(events, timeline.Paged)
	if !ok {
		if start, ok = timeline.First(events, timeline.Received); !ok {
			return 0, false
		}
	}
	return max(acked.Sub(start), 0), true
}

// median is the middle of sorted durations, the mean of the two middles
// for an even count.
func median(d []time.Duration) time.Duration {
	n := len(d)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}

// percentile is the nearest-rank percentile of sorted durations: the
// smallest value that at least p of them do not exceed.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[min(max(i, 0), len(d)-1)]
}

// computeFigures counts facts received in [from, to).
func computeFigures(facts []intake.Facts, from, to time.Time) figures {
	f := figures{Tips: len(facts)}
	weeks := map[time.Time]int{}
	cats := map[string]int{}
	urg := map[string]int{}
	outcomes := map[string]int{}
	refs := map[string]int{}
	var acks []time.Duration
	for _, t := range facts {
		weeks[weekStart(t.ReceivedAt)]++
		cats[t.Category]++
		urg[t.Urgency]++
		if d, ok := ackTime(t.Events); ok {
			acks = append(acks, d)
		}
		if t.Status == intake.StatusClosed {
			f.Closed++
			outcomes[t.Outcome]++
			for _, r := range t.Referrals {
				refs[r]++
			}
		}
		if t.FromReporter > 0 && t.FromReviewer > 0 {
			f.TwoWay++
		}
	}
	for w := weekStart(from); w.Before(to); w = w.AddDate(0, 0, 7) {
		f.Weeks = append(f.Weeks, count{Key: w.Format(time.DateOnly), Label: "Week of " + w.Format("2 Jan 2006"), N: weeks[w]})
	}
	for _, c := range intake.Categories {
		f.Categories = append(f.Categories, count{Key: c.ID, Label: c.Name, N: cats[c.ID]})
		delete(cats, c.ID)
	}
	// A team's own rules may rate categories the form does not offer.
	for _, k := range countKeys(cats) {
		f.Categories = append(f.Categories, count{Key: k, Label: k, N: cats[k]})
	}
	for _, u := range []string{"critical", "high", "normal", "low"} {
		f.Urgencies = append(f.Urgencies, count{Key: u, Label: strings.ToUpper(u[:1]) + u[1:], N: urg[u]})
	}
	if n := urg[""]; n > 0 {
		f.Urgencies = append(f.Urgencies, count{Key: "unrated", Label: "Not rated yet", N: n})
	}
	for _, o := range intake.Outcomes {
		f.Outcomes = append(f.Outcomes, count{Key: o.ID, Label: o.Name, N: outcomes[o.ID]})
	}
	for _, r := range intake.ReferralTypes {
		f.Referrals = append(f.Referrals, count{Key: r.ID, Label: r.Name, N: refs[r.ID]})
	}
	slices.Sort(acks)
	f.Acked = len(acks)
	f.AckMedian = median(acks)
	f.AckP90 = percentile(acks, 0.9)
	if f.Tips > 0 {
		f.TwoWayShare = float64(f.TwoWay) / float64(f.Tips)
	}
	return f
}

func countKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// figuresScope is the figures form: a period, and optionally one team and
// one organisation.
type figuresScope struct {
	From, To string // dates as typed, YYYY-MM-DD, To included
	Team     string
	Org      string

	from, to time.Time // [from, to)
	teams    []string  // the teams counted
}

// maxFiguresPeriod bounds a figures request: a program's multi-year view
// is a CSV job, not a page load.
const maxFiguresPeriod = 3 * 366 * 24 * time.Hour

// readFiguresScope reads the form. A team the reviewer does not lead is
// a 404, like any other team's business; a malformed date is a 400.
func (h *handler) readFiguresScope(c echo.Context) (figuresScope, error) {
	r := reviewerOf(c)
	s := figuresScope{From: c.QueryParam("from"), To: c.QueryParam("to"), Team: c.QueryParam("team"), Org: c.QueryParam("org")}
	for _, t := range h.myTeams(r) {
		if r.Leads(t) {
			s.teams = append(s.teams, t)
		}
	}
	if len(s.teams) == 0 {
		return s, echo.ErrNotFound
	}
	if s.Team != "" {
		if !slices.Contains(s.teams, s.Team) {
			return s, echo.ErrNotFound
		}
		s.teams = []string{s.Team}
	}
	if s.Org != "" {
		if _, ok := intake.FindOrg(h.orgs, s.Org); !ok {
			return s, badRequest()
		}
	}
	today := h.now().UTC().Truncate(24 * time.Hour)
	if s.To == "" {
		s.To = today.Format(time.DateOnly)
	}
	if s.From == "" {
		s.From = weekStart(today).AddDate(0, 0, -7*11).Format(time.DateOnly)
	}
	from, err1 := time.Parse(time.DateOnly, s.From)
	to, err2 := time.Parse(time.DateOnly, s.To)
	if err1 != nil || err2 != nil || to.Before(from) || to.Sub(from) > maxFiguresPeriod {
		return s, badRequest()
	}
	s.from, s.to = from, to.AddDate(0, 0, 1)
	return s, nil
}

func (s figuresScope) query() string {
	v := url.Values{"from": {s.From}, "to": {s.To}}
	if s.Team != "" {
		v.Set("team", s.Team)
	}
	if s.Org != "" {
		v.Set("org", s.Org)
	}
	return "?" + v.Encode()
}

// breakdown is one row of the per-team or per-organisation table.
type breakdown struct {
	Key, Name string
	F         figures
}

// figuresData counts the scope's tips, overall, per team and per
// organisation.
func (h *handler) figuresData(c echo.Context, s figuresScope) (figures, []breakdown, []breakdown, error) {
	facts, err := h.intake.Store().Facts(c.Request().Context(), s.teams, s.from, s.to)
	if err != nil {
		return figures{}, nil, nil, err
	}
	if s.Org != "" {
		facts = slices.DeleteFunc(facts, func(f intake.Facts) bool { return f.Org != s.Org })
	}
	all := computeFigures(facts, s.from, s.to)
	var teams, orgs []breakdown
	for _, team := range s.teams {
		part := slices.DeleteFunc(slices.Clone(facts), func(f intake.Facts) bool { return !slices.Contains(f.Teams, team) })
		teams = append(teams, breakdown{Key: team, Name: h.teamName(team), F: computeFigures(part, s.from, s.to)})
	}
	// Organisations in the config's order; tips naming an organisation the
	// config does not list count together, under one fixed name.
	byOrg := map[string][]intake.Facts{}
	for _, f := range facts {
		key := f.Org
		if _, ok := intake.FindOrg(h.orgs, key); !ok {
			key = ""
		}
		byOrg[key] = append(byOrg[key], f)
	}
	for _, o := range h.orgs {
		if part, ok := byOrg[o.ID]; ok {
			orgs = append(orgs, breakdown{Key: o.ID, Name: o.Name, F: computeFigures(part, s.from, s.to)})
		}
	}
	if part, ok := byOrg[""]; ok {
		orgs = append(orgs, breakdown{Key: "unlisted", Name: h.reviewOrgName(""), F: computeFigures(part, s.from, s.to)})
	}
	return all, teams, orgs, nil
}

// breakdownTable is the per-team or per-organisation table.
type breakdownTable struct {
	Title string
	Rows  []breakdown
}

// figuresPage is the figures page.
type figuresPage struct {
	reviewLayout
	Scope  figuresScope
	Teams  []Team
	Orgs   []option
	F      figures
	Tables []breakdownTable
	Charts []chart
	CSV    string
}

// reviewFigures shows the program figures for a period.
func (h *handler) reviewFigures(c echo.Context) error {
	s, err := h.readFiguresScope(c)
	if err != nil {
		return err
	}
	all, teams, orgs, err := h.figuresData(c, s)
	if err != nil {
		return err
	}
	if err := h.audit(c, "figures.view", "", s.query()); err != nil {
		return err
	}
	p := &figuresPage{
		reviewLayout: reviewLayout{Title: "Program figures", Nav: "figures"},
		Scope:        s,
		F:            all,
		Tables:       []breakdownTable{{"By team", teams}, {"By organisation", orgs}},
		CSV:          "/review/figures.csv" + s.query(),
		Charts: []chart{
			barChart("weeks", "Tips by week", all.Weeks),
			barChart("urgency", "Tips by urgency", all.Urgencies),
			barChart("category", "Tips by category", all.Categories),
			barChart("outcomes", "Closed tips by outcome", all.Outcomes),
			barChart("referrals", "Referrals by type", all.Referrals),
		},
	}
	r := reviewerOf(c)
	for _, t := range h.myTeams(r) {
		if r.Leads(t) {
			p.Teams = append(p.Teams, Team{ID: t, Name: h.teamName(t)})
		}
	}
	for _, o := range h.orgs {
		p.Orgs = append(p.Orgs, option{Value: o.ID, Name: o.Name, Selected: o.ID == s.Org})
	}
	return h.renderReview(c, 200, "review_figures", p)
}

// reviewFiguresCSV exports the same figures as CSV, one count a line:
// scope (all, team:ID or org:ID), measure, key, value.
func (h *handler) reviewFiguresCSV(c echo.Context) error {
	s, err := h.readFiguresScope(c)
	if err != nil {
		return err
	}
	all, teams, orgs, err := h.figuresData(c, s)
	if err != nil {
		return err
	}
	if err := h.audit(c, "figures.export", "", s.query()); err != nil {
		return err
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"scope", "measure", "key", "value"})
	writeFigures(w, "all", all)
	for _, t := range teams {
		writeFigures(w, "team:"+t.Key, t.F)
	}
	for _, o := range orgs {
		writeFigures(w, "org:"+o.Key, o.F)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	name := fmt.Sprintf("tipline-figures-%s-to-%s.csv", s.From, s.To)
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return c.Blob(200, "text/csv; charset=utf-8", []byte(b.String()))
}

func writeFigures(w *csv.Writer, scope string, f figures) {
	row := func(measure, key, value string) {
		_ = w.Write([]string{csvSafe(scope), measure, csvSafe(key), value})
	}
	itoa := strconv.Itoa
	row("tips", "", itoa(f.Tips))
	for _, sets := range []struct {
		measure string
		counts  []count
	}{{"week", f.Weeks}, {"urgency", f.Urgencies}, {"category", f.Categories}, {"outcome", f.Outcomes}, {"referral", f.Referrals}} {
		for _, c := range sets.counts {
			row(sets.measure, c.Key, itoa(c.N))
		}
	}
	row("acknowledged", "", itoa(f.Acked))
	row("ack_median_seconds", "", strconv.FormatFloat(f.AckMedian.Seconds(), 'f', 0, 64))
	row("ack_p90_seconds", "", strconv.FormatFloat(f.AckP90.Seconds(), 'f', 0, 64))
	row("closed", "", itoa(f.Closed))
	row("two_way_tips", "", itoa(f.TwoWay))
	row("two_way_share", "", strconv.FormatFloat(f.TwoWayShare, 'f', 3, 64))
}

// csvSafe keeps a spreadsheet from reading a value as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// duration shows a time to acknowledge as a person reads it.
func duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days %d h", int(d.Hours())/24, int(d.Hours())%24)
}

// Durations for the page.
func (f figures) AckMedianText() string { return duration(f.AckMedian) }
func (f figures) AckP90Text() string    { return duration(f.AckP90) }
func (f figures) TwoWayPercent() string {
	return strconv.FormatFloat(100*f.TwoWayShare, 'f', 0, 64) + "%"
}

// chart is a horizontal bar chart, laid out here so the template only
// writes numbers into SVG presentation attributes: no script and no style
// attribute, which the CSP would refuse.
type chart struct {
	ID, Title     string
	Width, Height int
	LabelX, BarX  int
	Bars          []bar
	Counts        []count
	Total         int
	Empty         bool
}

type bar struct {
	Label           string
	N               int
	Y, W, TextY, NX int
}

// Chart geometry, in SVG user units.
const (
	chartWidth  = 480 // narrow, so a phone shows the labels at a readable size
	chartLabelW = 190 // room for "Week of 30 Nov 2026" and category names
	chartBarMax = 240
	chartRowH   = 26
	chartBarH   = 18
)

func barChart(id, title string, counts []count) chart {
	ch := chart{ID: id, Title: title, Width: chartWidth, LabelX: chartLabelW - 8, BarX: chartLabelW, Counts: counts}
	most := 0
	for _, c := range counts {
		most = max(most, c.N)
		ch.Total += c.N
	}
	ch.Empty = ch.Total == 0
	for i, c := range counts {
		w := 0
		if most > 0 {
			w = c.N * chartBarMax / most
		}
		if c.N > 0 {
			w = max(w, 2) // a count of one among hundreds still shows
		}
		y := 6 + i*chartRowH
		ch.Bars = append(ch.Bars, bar{Label: c.Label, N: c.N, Y: y, W: w, TextY: y + 14, NX: chartLabelW + w + 6})
	}
	ch.Height = 12 + len(counts)*chartRowH
	return ch
}
