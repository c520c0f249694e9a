package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/web/account"
)

// TestXSSPayloadsInertOnTheDashboard is the reporter side's XSS sweep for
// the pages a reviewer signs in to see: every payload of testdata/xss.txt
// in every field of a report, as a reporter's message, as the words a
// triage reason quotes, and as a reviewer's display name. Some of these
// reach the store past the sanitizer (a message and a reason are written
// as they are), so the pages' own escaping is what is tested. The queue,
// each tip, its case export, the figures, the accounts page and the audit
// log show them: nothing live, and no payload's markup unescaped.
func TestXSSPayloadsInertOnTheDashboard(t *testing.T) {
	payloads := xssPayloads(t)
	rf := newReviewFixture(t)
	ctx := context.Background()
	var tips []*intake.Tip
	names := 0
	for i, p := range payloads {
		tip := rf.seedTip(t, intake.Report{Org: "north-high", Category: "threat",
			Body: "report " + fmt.Sprint(i) + " " + p, Location: p, When: p, Subject: p, Contact: p}, "high", "threat", "team-a")
		require.NoError(t, rf.store.AddMessage(ctx, tip.ID, intake.Message{From: intake.FromReporter, Body: p, At: time.Now()}))
		require.NoError(t, rf.store.SetTriage(ctx, tip.ID, tip.ReceivedAt, intake.Triage{
			Urgency: "high", Category: "threat", Teams: []string{"team-a"}, Cluster: tip.Cluster, At: time.Now(),
			Reasons: []intake.Reason{{Rule: "weapon", Text: "a weapon is mentioned", Words: p}},
		}))
		tips = append(tips, tip)
		// A name the account rules refuse (too long, a line break) is
		// refused with a reason; the rest are kept as typed.
		_, _, err := rf.accounts.Add(ctx, account.NewReviewer{Login: fmt.Sprintf("r%d", i), Name: p, Role: account.RoleReviewer, Teams: []string{"team-a"}})
		if err != nil {
			require.ErrorIs(t, err, account.ErrInvalid, "payload %d as a reviewer's name", i)
		} else {
			names++
		}
	}
	require.Greater(t, names, len(payloads)/2, "most payloads make a reviewer's name")
	admin := rf.signIn(t, rf.addReviewer(t, "root", "Admin", account.RoleAdmin))

	pages := []string{"/review/?status=all", "/review/queue?status=all", "/review/?status=all&team=team-a&category=threat", "/review/figures", "/review/accounts", "/review/audit"}
	for _, tip := range tips {
		pages = append(pages, "/review/tips/"+tip.ID, "/review/tips/"+tip.ID+"/case", "/review/clusters/"+tip.Cluster)
	}
	for _, path := range pages {
		rec := admin.get(path)
		require.Equal(t, http.StatusOK, rec.Code, path)
		page := rec.Body.String()
		requireInert(t, page, path)
		for i, p := range payloads {
			if liveMarkup.MatchString(p) {
				require.NotContains(t, page, p, "%s: payload %d shown unescaped", path, i)
			}
		}
	}
	// The tip page shows what was typed, as text: the escaping kept the
	// words (here the first payload, as a message and a reason's words), it
	// did not drop them.
	require.Equal(t, "<script>alert(1)</script>", payloads[0])
	rec := admin.get("/review/tips/" + tips[0].ID)
	require.Contains(t, rec.Body.String(), "report 0")
	require.Contains(t, rec.Body.String(), "&lt;script&gt;alert(1)&lt;/script&gt;")
}
