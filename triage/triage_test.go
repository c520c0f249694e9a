package triage_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/triage"
)

// db is triage's own database on the test Redis.
const db = 2

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

func rules(t testing.TB) *triage.Rules {
	r, err := triage.DefaultRules()
	require.NoError(t, err)
	return r
}

func TestRate(t *testing.T) {
	r := rules(t)
	for _, tc := range []struct {
		text     string
		category string
		danger   bool
		want     triage.Urgency
		rule     string // a reason that must be given
		words    string // and the words it must point at
	}{
		{"Jordan said he is going to shoot up the school on Friday", "", false, triage.Critical, "imminent", "Friday"},
		{"he has a gun in his backpack right now", "", false, triage.Critical, "weapon", "gun"},
		{"my friend took all of her pills and wont wake up", "", false, triage.Critical, "in_progress", "took all of her pills"},
		{"she said she wants to kill herself tonight", "", false, triage.Critical, "self_harm", "kill herself"},
		{"va a matar a todos mañana en la escuela", "", false, triage.Critical, "threat", "va a matar"},
		{"he keeps talking about school shootings and says he has a hit list", "", false, triage.High, "threat", "hit list"},
		{"she's been cutting herself", "", false, triage.High, "self_harm", "cutting herself"},
		{"my step dad hits me when he is drunk", "", false, triage.High, "abuse", "hits me"},
		{"kids are bullying a boy in 7th grade every day on snapchat", "", false, triage.Normal, "bullying", "bullying"},
		{"people vape in the 2nd floor bathroom", "", false, triage.Normal, "drugs", "vape"},
		{"this test is going to kill me", "", false, triage.Low, "hyperbole", "this test is going to kill me"},
		{"the band killed it at the concert", "", false, triage.Low, "hyperbole", "killed it"},
		{"I bombed my quiz lol", "", false, triage.Low, "hyperbole", "bombed my quiz"},
		{"the cafeteria food is cold", "", false, triage.Low, "feedback", "food is cold"},
		{"hello", "", false, triage.Low, "none", ""},
		{"not sure this matters", "weapon", false, triage.High, "category", ""},
		{"please come to the gym", "", true, triage.Critical, "danger_now", ""},
		// A "yes, in danger" beside words that are about bullying is paged, not escalated.
		{"kids are bullying my son every day on snapchat", "", true, triage.High, "danger_now", ""},
		{"kids are bullying my son every day on snapchat and said they'll stab him tomorrow", "", true, triage.Critical, "danger_now", ""},
		// Danger to life going on now, in words no threat rule has.
		{"the bus driver is drunk and driving the kids to the game, swerving", "", false, triage.Critical, "in_progress", "drunk"},
		{"a kid is up on the parking garage saying hes gonna jump", "", false, triage.Critical, "in_progress", "going to jump"},
		{"someone set the trash room on fire and people are still inside", "", false, triage.Critical, "in_progress", "on fire"},
		{"she texted that she has her mom's pills and is gonna take them tonight", "", false, triage.Critical, "suicidal", "take them tonight"},
		{"he said he'll be at mass on Sunday with something for all of you", "", false, triage.Critical, "veiled_threat", "something for all of you"},
		// Asking whether a weapon is allowed is not a weapon with a time.
		{"can we bring our chef knives to the cooking competition on saturday?", "", false, triage.High, "asking", "can we bring"},
		{"our soccer team is gonna murder lakeside on friday, come watch", "", false, triage.Low, "hyperbole", "team is going to murder lakeside"},
		// Negation reaches no further than its clause, and "not joking" is emphasis.
		{"he's not joking, he'll stab Marcus after school", "", false, triage.Critical, "threat", "he'll stab marcus"},
		{"im not playing he is going to shoot them tomorrow", "", false, triage.Critical, "threat", "going to shoot them"},
		{"she said she isn't going to hurt herself, she's just sad", "", false, triage.Normal, "negated", "hurt herself"},
		{"she did not have a knife, it was her phone", "", false, triage.Normal, "negated", "knife"},
		{"my friend wants to kms but not today", "", false, triage.High, "self_harm", "kill myself"},
		// Hyperbole takes out only itself: a real threat beside it still counts.
		{"my mom will kill me if I fail, but Jay said he will shoot up the school friday", "", false, triage.Critical, "threat", "shoot up the school"},
		{"we're gonna destroy them at the game friday!!", "", false, triage.Low, "hyperbole", "destroy them at the game"},
		{"this heat is killing me", "", false, triage.Low, "hyperbole", "killing me"},
		{"can you shoot me a text about the photo shoot tomorrow", "", false, triage.Low, "harmless", "shoot me a text"},
		// Imminence alone is routine; with a threat or weapon it is critical.
		{"the bus is late again today", "", false, triage.Low, "imminent", "today"},
		{"imma air this place out monday", "", false, triage.Critical, "threat", "air this place out"},
		{"he's bringing his dad's gun to school tomorrow", "", false, triage.Critical, "weapon_brought", "bringing his dad's gun"},
		{"a kid has a knife in his backpack in the cafeteria", "", false, triage.Critical, "weapon_present", "knife in his backpack"},
		// A past "today" does not make self-injury an emergency.
		{"she showed me the cuts on her arms today", "", false, triage.High, "self_harm", "showed me the cuts"},
		{"she took a whole bottle of pills and is not answering", "", false, triage.Critical, "in_progress", "took a whole bottle of pills"},
		{"kayla posted pills on her story saying goodbye everyone", "", false, triage.Critical, "goodbye", "goodbye"},
		// Concepts: leakage, preparation, veiled threats, stalking, sextortion,
		// staff misconduct, extremism, partner violence.
		{"he told everyone not to come to school on friday", "", false, triage.Critical, "leakage", "not to come to school"},
		{"he has been researching past school shooters", "", false, triage.High, "preparation", "researching past school shooters"},
		{"she said they will all regret it", "", false, triage.High, "veiled_threat", "will all regret"},
		{"some guy keeps showing up at her house and following her", "", false, triage.High, "stalking", "following her"},
		{"they say they'll send my pics to everyone unless i pay", "", false, triage.High, "sextortion", "unless i pay"},
		{"the coach texts girls on the team late at night and tells them not to tell anyone", "", false, triage.High, "secrecy", "not to tell"},
		{"kids are handing out white power stickers and talking about a race war", "", false, triage.High, "extremism", "race war"},
		{"my mom's boyfriend hits her and said he'll kill her if she leaves him", "", false, triage.High, "partner_violence", "if she leaves him"},
		// Escapes in patterns survive folding (\W stays "not a word character").
		{"Mr. Lee, the gym teacher, slapped my son", "", false, triage.High, "staff_physical", "slapped"},
		{"the teacher said he's going to shoot for a 4.0", "", false, triage.Low, "harmless", "shoot for a"},
		// Means at hand, a final act with a day, a worry that is not a threat.
		{"im not ok. i have the pills in front of me rn", "", false, triage.Critical, "attempt", "pills in front of me"},
		{"he gave me his whole tool set and said he won't need it after this weekend, he talks about killing himself", "", false, triage.Critical, "suicidal", "won't need it after this weekend"},
		{"people are drinking on lunch and then driving forklifts, somebody is going to get hurt", "", false, triage.Normal, "drugs", "drinking"},
		{"a man keeps trying to talk to kids alone and asks them for their usernames", "", false, triage.High, "abuse", "usernames"},
		{"someone is getting jumped right now behind the portables and he's not getting up", "", false, triage.Critical, "in_progress", "not getting up"},
		// Spanish.
		{"mi novio dice que si lo dejo se mata esta noche", "", false, triage.Critical, "suicidal", "se mata"},
		{"el examen de mate de mañana me va a matar jaja", "", false, triage.Low, "hyperbole", "me va a matar"},
		{"mi amigo va a traer la pistola de su papa mañana a la escuela", "", false, triage.Critical, "weapon_brought", "va a traer la pistola"},
		{"mi padrastro me pega con el cinturon", "", false, triage.High, "abuse", "padrastro me pega"},
		{"mi mamá me va a matar si ve mis calificaciones", "", false, triage.Low, "hyperbole", "me va a matar"},
		{"mi amiga dice que ya no quiere vivir", "", false, triage.High, "self_harm", "no quiere vivir"},
		{"unos niños se burlan de mi hija todos los dias", "", false, triage.Normal, "bullying", "se burlan"},
		// Intent and harm apart in one clause; veiled verbs with a person; quoted words.
		{"he said he would come back on Sunday during mass and shoot the priest", "", false, triage.Critical, "threat", "shoot the priest"},
		{"he said he'll come in and 'handle' the payroll lady by Friday", "", false, triage.Critical, "threat", "handle the payroll lady"},
		{"someone found a kill list with 9 names and 4/3 at the top", "", false, triage.Critical, "imminent", "4/3"},
		{"she posted her last video thanking everyone for everything and won't pick up", "", false, triage.Critical, "unreachable", "pick up"},
		{"My son's reading tutor asked him to send pictures of himself and said it was just between them", "", false, triage.High, "secrecy", "just between them"},
		// A denied statement denies its words; a filler does not stop a denial.
		{"he wasn't going to bring a gun or anything, he wants the name-calling to stop", "", false, triage.Normal, "negated", "gun"},
		{"he has not said anything about hurting himself, he is just withdrawn", "", false, triage.Normal, "negated", "hurting himself"},
		// Look-alikes: a rival team, food, a drill, a logo, a slip that is a real word.
		{"we're gonna kill the other team friday night", "", false, triage.Low, "hyperbole", "kill the other team"},
		{"im gonna murder this pizza at lunch", "", false, triage.Low, "hyperbole", "murder this pizza"},
		{"the active shooter response training was helpful", "", false, triage.Low, "harmless", "active shooter response training"},
		{"he keeps watching mass shooting videos and says the next one will be here", "", false, triage.High, "veiled_threat", "next one will be here"},
		{"he's been angry and punched a locker but he's talking to the counselor", "", false, triage.Normal, "concerning", "punched a locker"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			got := r.Rate(triage.Input{Text: tc.text, Category: tc.category, Danger: tc.danger})
			require.Equal(t, tc.want, got.Urgency, "reasons: %+v", got.Reasons)
			var found *intake.Reason
			for i := range got.Reasons {
				if got.Reasons[i].Rule == tc.rule {
					found = &got.Reasons[i]
				}
			}
			require.NotNil(t, found, "no %q reason in %+v", tc.rule, got.Reasons)
			require.NotEmpty(t, found.Text)
			if tc.words != "" {
				require.Contains(t, strings.ToLower(found.Words), strings.ToLower(tc.words))
			}
		})
	}
}

func TestRateCategoryFromText(t *testing.T) {
	got := rules(t).Rate(triage.Input{Text: "a kid brought a knife", Category: "other"})
	require.Equal(t, "weapon", got.Category)
	got = rules(t).Rate(triage.Input{Text: "a kid brought a knife", Category: "bullying"})
	require.Equal(t, "bullying", got.Category, "the reporter's own category stands")
}

func TestParseRulesRejectsMistakes(t *testing.T) {
	for name, src := range map[string]string{
		"bad regexp":     "signals: {a: {says: x, patterns: ['(']}}",
		"unknown signal": "signals: {a: {says: x, patterns: [b]}}\nlevels: [{urgency: high, any: [nope]}]",
		"bad urgency":    "signals: {a: {says: x, patterns: [b]}}\nlevels: [{urgency: urgent, any: [a]}]",
		"unknown words":  "signals: {a: {says: x, patterns: ['{nope}']}}",
		"words loop":     "words: {a: ['{b}'], b: ['{a}']}\nsignals: {a: {says: x, patterns: ['{a}']}}",
		"bad category":   "signals: {a: {says: x, category: aliens, patterns: [b]}}",
		"denied unknown": "signals: {a: {says: x, patterns: [b]}}\nlevels: [{urgency: high, any: ['denied:nope']}]",
		"category rule":  "signals: {a: {says: x, patterns: [b]}}\ncategories: [{category: aliens, any: [a]}]",
		"empty level":    "signals: {a: {says: x, patterns: [b]}}\nlevels: [{urgency: high, none: [a]}]",
		"learned signal": "signals: {a: {says: x, patterns: [b]}}\nlearned: {margin: 6, margin_over_rules: 9, margin_to_critical: 20, not_with: [nope]}",
		"learned margin": "signals: {a: {says: x, patterns: [b]}}\nlearned: {not_with: [a]}",
	} {
		_, err := triage.ParseRules([]byte(src))
		require.Error(t, err, name)
	}
}

func TestRouter(t *testing.T) {
	teams := map[string]bool{"lincoln": true, "counsel": true, "district": true, "night": true}
	exists := func(id string) bool { return teams[id] }
	schoolHours := triage.TimeInterval{Name: "school", Location: "America/Chicago", Weekdays: []string{"monday:friday"},
		Times: []triage.TimeRange{{Start: "07:30", End: "16:00"}}}
	r, err := triage.NewRouter([]triage.Route{
		// Self-harm goes to counselling and on to the school's team.
		{Orgs: []string{"lincoln-high"}, Categories: []string{"self_harm"}, Teams: []string{"counsel"}, Continue: true},
		{Orgs: []string{"lincoln-high"}, ActiveTimeIntervals: []string{"school"}, Teams: []string{"lincoln"}},
		// Outside school hours, urgent tips go to the night team.
		{Orgs: []string{"lincoln-high"}, Urgencies: []triage.Urgency{triage.Critical, triage.High}, Teams: []string{"night"}},
		{Orgs: []string{"lincoln-high"}, Teams: []string{"lincoln"}},
	}, []triage.TimeInterval{schoolHours}, "district", exists)
	require.NoError(t, err)

	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	mondayNoon := time.Date(2026, 3, 2, 12, 0, 0, 0, chicago)  // a Monday, in school
	mondayNight := time.Date(2026, 3, 2, 23, 0, 0, 0, chicago) // same day, after hours
	saturday := time.Date(2026, 3, 7, 10, 0, 0, 0, chicago)    // weekend
	earlyUTC := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)   // 08:00 in Chicago
	for _, tc := range []struct {
		name     string
		org, cat string
		u        triage.Urgency
		at       time.Time
		want     []string
	}{
		{"self-harm in school hours: counselling and the school team", "lincoln-high", "self_harm", triage.High, mondayNoon, []string{"counsel", "lincoln"}},
		{"self-harm at night: counselling and the night team", "lincoln-high", "self_harm", triage.High, mondayNight, []string{"counsel", "night"}},
		{"weapon at night", "lincoln-high", "weapon", triage.Critical, mondayNight, []string{"night"}},
		{"weapon on Saturday", "lincoln-high", "weapon", triage.Critical, saturday, []string{"night"}},
		{"bullying at night waits for the school team", "lincoln-high", "bullying", triage.Normal, mondayNight, []string{"lincoln"}},
		{"hours are in the interval's time zone", "lincoln-high", "weapon", triage.Critical, earlyUTC, []string{"lincoln"}},
		{"unknown org: default team", "unknown-school", "weapon", triage.Critical, mondayNoon, []string{"district"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, r.Teams(tc.org, tc.cat, tc.u, tc.at))
		})
	}

	for name, build := range map[string]func() error{
		"route to a team that does not exist": func() error {
			_, err := triage.NewRouter([]triage.Route{{Teams: []string{"ghost"}}}, nil, "district", exists)
			return err
		},
		"unknown time interval": func() error {
			_, err := triage.NewRouter([]triage.Route{{ActiveTimeIntervals: []string{"nope"}, Teams: []string{"lincoln"}}}, nil, "district", exists)
			return err
		},
		"bad time zone": func() error {
			_, err := triage.NewRouter(nil, []triage.TimeInterval{{Name: "x", Location: "Mars/Olympus"}}, "district", exists)
			return err
		},
		"bad hours": func() error {
			_, err := triage.NewRouter(nil, []triage.TimeInterval{{Name: "x", Times: []triage.TimeRange{{Start: "16:00", End: "07:30"}}}}, "district", exists)
			return err
		},
		"bad weekday": func() error {
			_, err := triage.NewRouter(nil, []triage.TimeInterval{{Name: "x", Weekdays: []string{"funday"}}}, "district", exists)
			return err
		},
	} {
		require.Error(t, build(), name)
	}
}

func TestClusters(t *testing.T) {
	c := triage.NewClusters(redistest.New(t, db), time.Hour)
	ctx := context.Background()
	join := func(org, id, text string) string {
		got, err := c.Join(ctx, org, id, text)
		require.NoError(t, err)
		return got
	}
	require.Equal(t, "A", join("lincoln", "A", "Jake posted he will shoot up the school Friday"))
	require.Equal(t, "A", join("lincoln", "B", "jake posted he will SHOOT up the school, friday!!"), "a resubmission joins the first report")
	require.Equal(t, "C", join("roosevelt", "C", "Jake posted he will shoot up the school Friday"), "clusters are per organisation")
	require.Equal(t, "D", join("lincoln", "D", "Mia posted she will shoot up the school Friday"), "same words about someone else stay apart")
}

// pipeline is triage's parts on the test Redis, as a worker has them: a
// store, a triager routing every organisation to team, an asynq client, an
// intake that queues through it, the pager (texting the dev outbox) and
// the task handler.
type pipeline struct {
	rdb     *redis.Client
	store   *intake.Store
	triager *triage.Triager
	client  *asynq.Client
	in      *intake.Intake
	handler *triage.Handler
}

func newPipeline(t *testing.T, routes []triage.Route, team string) *pipeline {
	t.Helper()
	rdb := redistest.New(t, db)
	keys, err := intake.NewKeyring([]intake.Key{{ID: "k", Secret: intake.NewKeySecret()}}, intake.NewKeySecret())
	require.NoError(t, err)
	store := intake.NewStore(rdb, keys)
	router, err := triage.NewRouter(routes, nil, team, func(string) bool { return true })
	require.NoError(t, err)
	tr := triage.NewTriager(rules(t), triage.NewClusters(rdb, time.Hour), router)
	client := asynq.NewClient(redistest.AsynqOpt(db))
	t.Cleanup(func() { client.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var teams []notify.Team
	for _, id := range []string{team, "lincoln"} {
		teams = append(teams, notify.Team{ID: id, Name: id, OnCall: []notify.Reviewer{{Name: "Ana", Phone: "+15555550101"}}})
	}
	pager := notify.NewPager(notify.Config{Redis: rdb, Queue: client, Phone: notify.NewOutbox(rdb, log), Teams: teams, PublicURL: "https://tips.example.org", Log: log})
	return &pipeline{
		rdb: rdb, store: store, triager: tr, client: client,
		in:      intake.New(store, triage.NewQueue(client, tr), log),
		handler: triage.NewHandler(store, tr, pager, client, func(string) string { return "Lincoln High" }, log),
	}
}

// TestHandlerTriagesAndQueuesPage runs a stored tip through the real task
// handler: status, urgency and reasons land on the tip, and a page for its
// team waits in the critical queue without the tip's text.
func TestHandlerTriagesAndQueuesPage(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, []triage.Route{{Orgs: []string{"lincoln-high"}, Teams: []string{"lincoln"}}}, "district")
	store, in, h := p.store, p.in, p.handler

	rc, err := in.Submit(ctx, intake.Report{Org: "lincoln-high", Body: "Sam says he is bringing a gun tomorrow"})
	require.NoError(t, err)
	require.NoError(t, h.ProcessTask(ctx, triage.NewTipTask(rc.TipID)))
	require.NoError(t, h.ProcessTask(ctx, triage.NewTipTask(rc.TipID)), "a second run must be harmless")

	tip, err := store.Tip(ctx, rc.TipID)
	require.NoError(t, err)
	require.Equal(t, intake.StatusAssigned, tip.Status)
	require.Equal(t, "critical", tip.Urgency)
	require.Equal(t, "lincoln", tip.Team)
	require.Equal(t, rc.TipID, tip.Cluster)
	require.NotEmpty(t, tip.Reasons)

	pages := redistest.Pending(t, db, "critical", notify.TypeStep)
	require.Len(t, pages, 1, "one escalation for the team, however often triage runs")
	require.NotContains(t, string(pages[0].Payload), "gun")
	require.Contains(t, string(pages[0].Payload), `"esc":"lincoln:`+rc.TipID)

	ids, err := store.Received(ctx, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, ids, "a triaged tip is no longer waiting for the sweeper")
}

func TestSweeperQueuesStuckTips(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, nil, "district")
	store, tr := p.store, p.triager
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Stored while the queue was down.
	deadClient := asynq.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond})
	defer deadClient.Close()
	rc, err := intake.New(store, triage.NewQueue(deadClient, tr), log).Submit(ctx, intake.Report{Org: "x", Body: "people vape in the bathroom"})
	require.NoError(t, err)

	sw := triage.NewSweeper(store, triage.NewQueue(p.client, tr), 0, log)
	n, err := sw.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = sw.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "still received, so swept again...")
	// A routine tip waits in a group of the normal queue, to be batched.
	insp := asynq.NewInspector(redistest.AsynqOpt(db))
	defer insp.Close()
	pending, err := insp.ListPendingTasks("normal")
	require.NoError(t, err)
	require.Empty(t, pending, "a routine tip is batched, not queued on its own")
	groups, err := insp.Groups("normal")
	require.NoError(t, err)
	var queued []*asynq.TaskInfo
	for _, g := range groups {
		tasks, err := insp.ListAggregatingTasks("normal", g.Group)
		require.NoError(t, err)
		queued = append(queued, tasks...)
	}
	require.Len(t, queued, 1, "...but queued once")
	require.Equal(t, "triage:"+rc.TipID, queued[0].ID)
}

// TestNegationReach: a warning's "don't" does not deny the day after it,
// but "not today" is still no time at all.
func TestNegationReach(t *testing.T) {
	r := rules(t)
	got := r.Rate(triage.Input{Text: "he posted a pic of a glock and told us don't come tomorrow"})
	require.Equal(t, triage.Critical, got.Urgency, "reasons: %+v", got.Reasons)
	got = r.Rate(triage.Input{Text: "he said he has a knife but not today"})
	require.NotEqual(t, triage.Critical, got.Urgency, "reasons: %+v", got.Reasons)
}

// TestBatchTriagesRoutineTips: routine tips wait in a group of their queue,
// asynq's aggregator hands the group's tasks to Aggregate, and the handler
// triages the batch: every tip that still exists is triaged once, and one
// purged in between is skipped without failing the rest.
func TestBatchTriagesRoutineTips(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, nil, "district")
	rdb, store, in, h := p.rdb, p.store, p.in, p.handler

	var ids []string
	for _, body := range []string{"kids vape in the 2nd floor bathroom every lunch", "the cafeteria pizza is always cold", "someone keyed three cars in the staff lot", "the bus is late every morning"} {
		rc, err := in.Submit(ctx, intake.Report{Org: "lincoln-high", Body: body})
		require.NoError(t, err)
		ids = append(ids, rc.TipID)
	}
	// What asynq's aggregator reads out of the groups.
	insp := asynq.NewInspector(redistest.AsynqOpt(db))
	defer insp.Close()
	var tasks []*asynq.Task
	for _, q := range []string{"normal", "low"} {
		groups, err := insp.Groups(q)
		require.NoError(t, err)
		for _, g := range groups {
			grouped, err := insp.ListAggregatingTasks(q, g.Group)
			require.NoError(t, err)
			for _, ti := range grouped {
				tasks = append(tasks, asynq.NewTask(ti.Type, ti.Payload))
			}
		}
	}
	require.Len(t, tasks, len(ids), "every routine tip waits in a group")
	batch := triage.Aggregate("triage-0", tasks)
	require.Equal(t, triage.TypeBatch, batch.Type())
	for _, id := range ids {
		require.Contains(t, string(batch.Payload()), id)
	}
	require.NotContains(t, string(batch.Payload()), "vape", "a batch carries tip IDs only")

	require.NoError(t, rdb.Del(ctx, "tip:{"+ids[1]+"}").Err(), "purged before its batch ran")
	require.NoError(t, h.ProcessBatch(ctx, batch))
	require.NoError(t, h.ProcessBatch(ctx, batch), "a second run must be harmless")
	for i, id := range ids {
		tip, err := store.Tip(ctx, id)
		if i == 1 {
			require.ErrorIs(t, err, intake.ErrNotFound)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, intake.StatusAssigned, tip.Status, "tip %d", i)
		require.Contains(t, []string{"normal", "low"}, tip.Urgency, "tip %d", i)
		require.Equal(t, "district", tip.Team)
	}
	left, err := store.Received(ctx, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, []string{ids[1]}, left, "only the purged tip's stale entry waits for the sweeper")
}

// TestDefaultUrgency: a rule file names the urgency of a report no level
// explains, and says so in the reason; a figure of speech is a signal that
// levels can name; an unknown default is an error at start-up.
func TestDefaultUrgency(t *testing.T) {
	const file = `
signals:
  weapon:
    says: mentions a weapon
    patterns: ['gun']
hyperbole: ['killed it']
levels:
  - {urgency: high, any: [weapon]}
  - {urgency: low, any: [hyperbole]}
default: normal
`
	r, err := triage.ParseRules([]byte(file))
	require.NoError(t, err)
	got := r.Rate(triage.Input{Text: "something about my neighbour worries me"})
	require.Equal(t, triage.Normal, got.Urgency)
	require.Equal(t, "none", got.Reasons[len(got.Reasons)-1].Rule)
	require.Contains(t, got.Reasons[len(got.Reasons)-1].Text, "normal")
	require.Equal(t, triage.Low, r.Rate(triage.Input{Text: "the band killed it"}).Urgency)
	require.Equal(t, triage.High, r.Rate(triage.Input{Text: "he has a gun"}).Urgency)

	_, err = triage.ParseRules([]byte(strings.Replace(file, "default: normal", "default: soon", 1)))
	require.ErrorContains(t, err, "default")
}

// TestBatchHandsABadTipOn: a tip whose text cannot be opened (here, a
// stored value that is not sealed) does not hold its batch back: every tip
// of the batch goes on as a task of its own, the good ones are triaged
// that way, and only the bad one keeps failing, where asynq's retries and
// archive show it.
func TestBatchHandsABadTipOn(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, nil, "district")
	// Stored, not queued: as asynq leaves a batch's tips, their own tasks
	// gone once aggregated.
	deadClient := asynq.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond})
	defer deadClient.Close()
	offline := intake.New(p.store, triage.NewQueue(deadClient, p.triager), slog.New(slog.DiscardHandler))
	var ids []string
	for _, body := range []string{"kids vape behind the gym", "someone keyed a car in the staff lot", "the vending machine ate my dollar"} {
		rc, err := offline.Submit(ctx, intake.Report{Org: "lincoln-high", Body: body})
		require.NoError(t, err)
		ids = append(ids, rc.TipID)
	}
	bad := ids[1]
	require.NoError(t, p.rdb.HSet(ctx, "tip:{"+bad+"}", "body", "not sealed").Err())
	var tasks []*asynq.Task
	for _, id := range ids {
		tasks = append(tasks, triage.NewTipTask(id))
	}
	require.NoError(t, p.handler.ProcessBatch(ctx, triage.Aggregate("triage-0", tasks)))

	alone := redistest.Pending(t, db, "normal", triage.TypeTip)
	require.Len(t, alone, len(ids), "every tip of the batch goes on as a task of its own")
	for _, ti := range alone {
		err := p.handler.ProcessTask(ctx, asynq.NewTask(ti.Type, ti.Payload))
		if strings.Contains(string(ti.Payload), bad) {
			require.Error(t, err, "the bad tip fails alone")
			continue
		}
		require.NoError(t, err)
	}
	for _, id := range ids {
		if id == bad {
			continue
		}
		tip, err := p.store.Tip(ctx, id)
		require.NoError(t, err)
		require.Equal(t, intake.StatusAssigned, tip.Status)
	}
}
