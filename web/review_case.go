package web

import (
	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake/timeline"
)

// casePage is one tip with its timeline, laid out to print for a BTAM
// team's records.
type casePage struct {
	*tipPage
	ExportedBy string
	ExportedAt string
}

// reviewCase exports a case as a printable page. The export is audited and
// recorded on the tip's timeline: a printed case leaves the system, and
// the team must be able to tell who took it and when.
func (h *handler) reviewCase(c echo.Context) error {
	t, err := h.visibleTip(c)
	if err != nil {
		return err
	}
	p, err := h.tipData(c, t)
	if err != nil {
		return err
	}
	me := reviewerOf(c)
	now := h.now()
	if err := h.audit(c, "tip.export", t.ID, "case"); err != nil {
		return err
	}
	if err := h.intake.Store().Record(c.Request().Context(), t.ID, timeline.Event{At: now, Kind: timeline.Exported, Actor: me.Name, Detail: "case"}); err != nil {
		return err
	}
	p.Title = "Case " + t.Code()
	return h.renderReview(c, 200, "review_case", &casePage{tipPage: p, ExportedBy: me.Name, ExportedAt: now.UTC().Format("2006-01-02 15:04 UTC")})
}
