package notify_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake/timeline"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/notify"
)

func rotationTeam(start string, shift time.Duration, names ...string) notify.Team {
	t := notify.Team{ID: "t", Name: "T", TimeZone: "America/Chicago", Rotation: notify.Rotation{Start: start, Shift: shift}}
	for i, n := range names {
		t.OnCall = append(t.OnCall, notify.Reviewer{Name: n, Phone: "+1555555020" + string(rune('0'+i))})
	}
	return t
}

func primaryAt(t *testing.T, team notify.Team, utc string) string {
	t.Helper()
	at, err := time.Parse(time.RFC3339, utc)
	require.NoError(t, err)
	p, _, _ := team.OnCallAt(at)
	return p.Name
}

func TestDailyHandoffKeepsLocalTimeAcrossSpringForward(t *testing.T) {
	// Handoffs at 08:00 in Chicago. Clocks go forward on Sunday 8 March
	// 2026: 08:00 is 14:00Z before, 13:00Z after.
	team := rotationTeam("2026-03-02 08:00", 24*time.Hour, "Ana", "Ben", "Cy")
	require.NoError(t, team.Check())
	require.Equal(t, "Ana", primaryAt(t, team, "2026-03-02T14:00:00Z"), "the first turn starts at the start")
	require.Equal(t, "Ana", primaryAt(t, team, "2026-03-03T13:59:00Z"), "07:59 CST the next day: still Ana")
	require.Equal(t, "Ben", primaryAt(t, team, "2026-03-03T14:00:00Z"), "08:00 CST: Ben")
	require.Equal(t, "Cy", primaryAt(t, team, "2026-03-07T14:00:00Z"), "Saturday 08:00 CST")
	require.Equal(t, "Cy", primaryAt(t, team, "2026-03-08T12:59:00Z"), "Sunday 07:59 CDT: still Cy")
	require.Equal(t, "Ana", primaryAt(t, team, "2026-03-08T13:00:00Z"), "Sunday 08:00 CDT, an hour earlier in UTC: Ana")
	require.Equal(t, "Ana", primaryAt(t, team, "2026-01-01T00:00:00Z"), "before the rotation starts, its first member")
	_, second, ok := team.OnCallAt(time.Date(2026, 3, 8, 13, 0, 0, 0, time.UTC))
	require.True(t, ok)
	require.Equal(t, "Ben", second.Name, "the secondary is whoever comes next")
}

func TestWeeklyHandoffKeepsLocalTimeAcrossFallBack(t *testing.T) {
	// Monday 09:00 handoffs; clocks go back on Sunday 1 November 2026.
	team := rotationTeam("2026-10-26 09:00", 7*24*time.Hour, "Ana", "Ben")
	require.Equal(t, "Ana", primaryAt(t, team, "2026-11-02T14:30:00Z"), "Monday 08:30 CST: still Ana")
	require.Equal(t, "Ben", primaryAt(t, team, "2026-11-02T15:00:00Z"), "Monday 09:00 CST: Ben")
	require.Equal(t, "Ana", primaryAt(t, team, "2026-11-09T15:00:00Z"), "a week on: Ana again")
}

func TestHourlyShiftsAndOverrides(t *testing.T) {
	team := rotationTeam("2026-03-02 08:00", 12*time.Hour, "Ana", "Ben")
	require.Equal(t, "Ben", primaryAt(t, team, "2026-03-03T02:00:00Z"), "12 h shifts are counted in hours")
	team.Overrides = []notify.Override{{Name: "Olu", Phone: "+15555550299", From: "2026-03-03 18:00", To: "2026-03-04 08:00"}}
	require.NoError(t, team.Check())
	at := time.Date(2026, 3, 4, 1, 0, 0, 0, time.UTC) // 19:00 CST on the 3rd
	p, s, ok := team.OnCallAt(at)
	require.Equal(t, "Olu", p.Name, "the override is primary")
	require.True(t, ok)
	require.Equal(t, "Ana", s.Name, "whose turn it was is paged next")
	require.Equal(t, "Ana", primaryAt(t, team, "2026-03-04T14:00:00Z"), "the override has ended")
}

func TestTeamCheckNamesEveryProblem(t *testing.T) {
	team := notify.Team{
		ID: "t", TimeZone: "Mars/Olympus",
		OnCall:     []notify.Reviewer{{Name: "Ana", Phone: "555-0101"}},
		Rotation:   notify.Rotation{Start: "tomorrow", Shift: 0},
		Escalation: notify.Escalation{Steps: []notify.Step{{Targets: []string{"primray"}}}, Repeat: 99},
		Digest:     notify.Digest{At: "7.30", Days: []string{"funday"}},
	}
	err := team.Check()
	require.Error(t, err)
	for _, want := range []string{"E.164", "time_zone", "rotation.start", "rotation.shift", `"primray"`, "repeat", "digest.at", "funday"} {
		require.Contains(t, err.Error(), want)
	}
}

func TestRoutineTipsWaitForTheMorningDigest(t *testing.T) {
	team := testTeam()
	team.Digest = notify.Digest{At: "07:30", Days: []string{"mon", "tue", "wed", "thu", "fri"}}
	r := newRig(t, team)
	ctx := context.Background()

	friday := time.Date(2026, 3, 6, 18, 0, 0, 0, time.UTC)
	next := team.NextDigest(friday)
	loc, _ := time.LoadLocation("America/Chicago")
	require.Equal(t, time.Date(2026, 3, 9, 7, 30, 0, 0, loc), next.In(loc), "Friday evening's tips wait for Monday 07:30 in Chicago")

	for i, u := range []string{"normal", "normal", "low"} {
		require.NoError(t, r.pg.Routine(ctx, "lincoln", "TIPR00000"+string(rune('1'+i)), u, friday))
	}
	require.NoError(t, r.pg.Routine(ctx, "lincoln", "TIPLATE001", "low", next.Add(time.Minute)))
	require.Error(t, r.pg.Routine(ctx, "nobody", "TIPX", "low", friday))

	digest := func() *asynq.Task {
		b, _ := json.Marshal(map[string]any{"team": "lincoln", "at": next})
		return asynq.NewTask(notify.TypeDigest, b)
	}
	require.NoError(t, r.pg.ProcessTask(ctx, digest()))
	require.NoError(t, r.pg.ProcessTask(ctx, digest()), "a retried digest")
	msgs := r.tw.Messages()
	require.Len(t, msgs, 1, "one digest")
	require.Equal(t, ana, msgs[0].To, "to the primary on call")
	require.Equal(t, "tipline: 3 routine tips wait for Lincoln threat team (2 normal, 1 low). https://tips.example.org/review", msgs[0].Body)
	events, err := r.tl.List(ctx, "TIPR000001")
	require.NoError(t, err)
	_, ok := timeline.First(events, timeline.Digested)
	require.True(t, ok)

	// Scheduling digests queues one per team per day, however often.
	require.NoError(t, r.pg.ScheduleDigests(ctx))
	require.NoError(t, r.pg.ScheduleDigests(ctx))
	insp := asynq.NewInspector(redistest.AsynqOpt(db))
	defer insp.Close()
	scheduled, err := insp.ListScheduledTasks("normal")
	require.NoError(t, err)
	require.Len(t, scheduled, 1)
	require.Equal(t, notify.TypeDigest, scheduled[0].Type)
}
