package triage_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/triage"
)

// report is one report in a clustering scenario; reports with the same
// incident must share a cluster, and reports of different incidents must
// not.
type report struct {
	org, incident, text string
}

func TestClustersJoinParaphrases(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reports []report
	}{
		{"viral post by handle", []report{
			{"lincoln", "a", "@darkreaper_09 posted he's bringing a gun friday"},
			{"lincoln", "a", "did u see darkreaper_09's story about a gun on friday??"},
			{"lincoln", "a", "someone named darkreaper_09 threatened the school for friday"},
			{"lincoln", "a", "DARKREAPER09 ON INSTA SAID HES GONNA SHOOT UP THE SCHOOL"},
		}},
		{"handle written without @", []report{
			{"lincoln", "a", "there's an account xkiller on insta posting pics of a rifle"},
			{"lincoln", "a", "his snap is xkiller and he keeps posting guns"},
		}},
		{"full name, weapon and day", []report{
			{"lincoln", "a", "Jake Miller said he's bringing a gun to school Friday."},
			{"lincoln", "a", "jake miller is gonna bring a gun fri"},
			{"lincoln", "a", "My friend told me Jake Miller has a gun for Friday"},
		}},
		{"Spanish and English", []report{
			{"roosevelt", "a", "Dicen que Carlos va a traer una pistola el viernes"},
			{"roosevelt", "a", "Carlos says he'll bring a gun on Friday"},
			{"roosevelt", "a", "carlos trae un arma el viernes al aula 12"},
		}},
		{"text-speak days", []report{
			{"lincoln", "a", "Tyler said he'd stab someone in the locker room tomorrow"},
			{"lincoln", "a", "tyler gonna stab sum1 in locker room tmrw"},
		}},
		{"a cluster learns who a handle is", []report{
			{"lincoln", "a", "@darkreaper_09 says he will shoot up the school friday"},
			{"lincoln", "a", "darkreaper_09 is Jake Miller btw"},
			{"lincoln", "a", "Jake Miller is going to shoot people"},
		}},
		{"a description, in two languages", []report{
			{"riverside", "a", "a kid in a red hoodie has a gun in his backpack, showed it in the bathroom"},
			{"riverside", "a", "un chico con sudadera roja tiene una pistola, la enseñó en el baño"},
		}},
		{"numbered room and time", []report{
			{"lincoln", "a", "There will be a fight in room 204 at 3:15 today"},
			{"lincoln", "a", "big fight planned rm 204 3:15 2day"},
		}},
		{"exact resubmissions", []report{
			{"lincoln", "a", "please help"},
			{"lincoln", "a", "PLEASE HELP!!"},
			{"lincoln", "a", "please, help."},
		}},
		{"same wording, different handle", []report{
			{"lincoln", "a", "@darkreaper_09 posted he's bringing a gun friday"},
			{"lincoln", "b", "@nightowl_22 posted he's bringing a gun friday"},
		}},
		{"same wording, different name", []report{
			{"lincoln", "a", "Jake posted he will shoot up the school Friday with a gun"},
			{"lincoln", "b", "Mia posted she will shoot up the school Friday with a gun"},
			{"lincoln", "c", "Someone said Tyler Brooks will shoot up the school Friday with a gun"},
		}},
		{"same wording, different lower-case name", []report{
			{"lincoln", "a", "marco is selling vapes in the east stairwell before 2nd period"},
			{"lincoln", "b", "jalen is selling vapes in the east stairwell before 2nd period"},
		}},
		{"same wording, different account", []report{
			{"lincoln", "a", "An account called @amber.rose.x wants money or she posts my pics on the Lincoln gossip page"},
			{"lincoln", "b", "An account called @kyle_trades wants money or he posts my pics on the Lincoln gossip page"},
		}},
		{"same wording, different room", []report{
			{"lincoln", "a", "There's going to be a fight in room 204 after school tomorrow"},
			{"lincoln", "b", "There's going to be a fight in room 310 after school tomorrow"},
		}},
		{"same wording, different place", []report{
			{"lincoln", "a", "someone is bringing a knife to the gym on friday"},
			{"lincoln", "b", "someone is bringing a knife to the cafeteria on friday"},
		}},
		{"same wording, another description", []report{
			{"riverside", "a", "a kid in a red hoodie was vaping in the bathroom"},
			{"riverside", "b", "a kid in a black hoodie was vaping in the bathroom"},
		}},
		{"a weapon and a day are not enough", []report{
			{"lincoln", "a", "a kid said he has a gun and will use it friday"},
			{"lincoln", "b", "I think a student is bringing a gun friday"},
		}},
		{"unrelated reports", []report{
			{"lincoln", "a", "kids vape in the 2nd floor bathroom every day"},
			{"lincoln", "b", "Jordan keeps pushing my little brother on bus 14"},
			{"lincoln", "c", "the cafeteria food is cold"},
		}},
		{"different organisations", []report{
			{"lincoln", "a", "@darkreaper_09 posted he's bringing a gun friday"},
			{"roosevelt", "b", "@darkreaper_09 posted he's bringing a gun friday"},
			{"roosevelt", "b", "darkreaper_09 has a gun"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := triage.NewClusters(redistest.New(t, db), time.Hour)
			got := make([]string, len(tc.reports))
			for i, r := range tc.reports {
				id := fmt.Sprintf("tip%d", i)
				cl, err := c.Join(context.Background(), r.org, id, r.text)
				require.NoError(t, err)
				got[i] = cl
				if i == 0 {
					require.Equal(t, id, cl, "the first report starts its own cluster")
				}
			}
			for i := range tc.reports {
				for j := range i {
					same := tc.reports[i].incident == tc.reports[j].incident && tc.reports[i].org == tc.reports[j].org
					if same {
						require.Equal(t, got[j], got[i], "%q and %q are one incident: clusters %s and %s", tc.reports[j].text, tc.reports[i].text, got[j], got[i])
					} else {
						require.NotEqual(t, got[j], got[i], "%q and %q are different incidents, both in cluster %s", tc.reports[j].text, tc.reports[i].text, got[i])
					}
				}
			}
		})
	}
}

func TestClustersMembers(t *testing.T) {
	ctx := context.Background()
	c := triage.NewClusters(redistest.New(t, db), time.Hour)
	texts := []string{
		"@darkreaper_09 posted he's bringing a gun friday",
		"kids vape in the bathroom", // another incident, between them
		"did u see darkreaper_09's story about a gun on friday??",
		"someone named darkreaper_09 threatened the school for friday",
	}
	for i, text := range texts {
		_, err := c.Join(ctx, "lincoln", fmt.Sprintf("T%d", i), text)
		require.NoError(t, err)
	}
	got, err := c.Join(ctx, "lincoln", "T2", texts[2])
	require.NoError(t, err)
	require.Equal(t, "T0", got, "joining a tip again (a retried task) answers its cluster")

	members, err := c.Members(ctx, "T0")
	require.NoError(t, err)
	require.Equal(t, []string{"T0", "T2", "T3"}, members, "in arrival order, each once")
	n, err := c.Size(ctx, "T0")
	require.NoError(t, err)
	require.Equal(t, 3, n)

	members, err = c.Members(ctx, "T1")
	require.NoError(t, err)
	require.Equal(t, []string{"T1"}, members, "a report alone is a cluster of one")

	_, err = c.Members(ctx, "nope")
	require.ErrorIs(t, err, triage.ErrClusterNotFound)
	_, err = c.Size(ctx, "nope")
	require.ErrorIs(t, err, triage.ErrClusterNotFound)
}

func TestClustersWindow(t *testing.T) {
	ctx := context.Background()
	c := triage.NewClusters(redistest.New(t, db), time.Second)
	join := func(id, text string) string {
		got, err := c.Join(ctx, "lincoln", id, text)
		require.NoError(t, err)
		return got
	}
	require.Equal(t, "A", join("A", "@darkreaper_09 posted he's bringing a gun friday"))
	time.Sleep(600 * time.Millisecond)
	require.Equal(t, "A", join("B", "darkreaper_09 has a gun"), "within the window")
	time.Sleep(600 * time.Millisecond)
	require.Equal(t, "A", join("C", "darkreaper_09 has a gun"), "the window runs from the cluster's last report")
	time.Sleep(1200 * time.Millisecond)
	require.Equal(t, "D", join("D", "@darkreaper_09 posted he's bringing a gun friday"), "a resubmission after the window starts a new cluster")
	require.Equal(t, "D", join("E", "darkreaper_09 has a gun"), "and later reports join that one")
	_, err := c.Members(ctx, "A")
	require.ErrorIs(t, err, triage.ErrClusterNotFound, "members are kept for the window only")
}

// TestClustersIndexBounded checks the promise that a report's cost does not
// grow with the reports stored: an index key keeps the newest 20 clusters.
func TestClustersIndexBounded(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.New(t, db)
	c := triage.NewClusters(rdb, time.Hour)
	for i := range 30 {
		_, err := c.Join(ctx, "lincoln", fmt.Sprintf("T%d", i), fmt.Sprintf("@user_%d said something about friday", i))
		require.NoError(t, err)
	}
	n, err := rdb.ZCard(ctx, "triage:{lincoln}:cidx:day:friday").Result()
	require.NoError(t, err)
	require.Equal(t, int64(20), n)
	ttl, err := rdb.TTL(ctx, "triage:{lincoln}:cidx:day:friday").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 59*time.Minute, "index keys expire with the window")
}

func TestSpecifics(t *testing.T) {
	for _, tc := range []struct {
		text     string
		want     []string // "kind:value" that must be found
		wantNone []string // and that must not
	}{
		{"@darkreaper_09 posted he's bringing a gun friday", []string{"handle:darkreaper09", "weapon:gun", "day:friday"}, nil},
		{"did u see darkreaper_09's story", []string{"handle:darkreaper09"}, []string{"word:story"}},
		{"darkreaper on insta said it", []string{"handle:darkreaper"}, nil},
		{"Jake posted it. Someone saw Mia and Will there", []string{"name:jake", "name:mia", "name:will"}, []string{"name:someone"}},
		{"Apparently Kids say Mr. Smith's class is next", []string{"name:smith"}, []string{"name:apparently", "name:kids", "name:mr"}},
		{"Someone at Lincoln High has a knife", []string{"weapon:knife"}, []string{"name:lincoln", "name:high"}},
		{"fight in room 204, rm 12, aula 7, bus #14 and room310", []string{"room:room 204", "room:room 12", "room:room 7", "room:bus 14", "room:room 310"}, nil},
		{"in the gym, the cafeteria and the parking lot", []string{"place:gym", "place:cafeteria", "place:parking lot"}, nil},
		{"tmrw 3rd period at 3:15pm on 3/14, 2day at 3 pm", []string{"day:tomorrow", "clock:period 3", "clock:3:15pm", "clock:date 3/14", "day:today", "clock:3pm"}, nil},
		{"el viernes mañana por la mañana en la biblioteca", []string{"day:friday", "day:tomorrow", "place:library"}, nil},
		{"trae una pistola y un cuchillo, knives and guns, a bomb", []string{"weapon:gun", "weapon:knife", "weapon:bomb"}, nil},
		{"GÜERO's CAFETERÍA", []string{"place:cafeteria"}, nil},
		{"everyone dies in the bathroom stalls", []string{"place:bathroom", "word:stall"}, []string{"word:everyone", "word:die"}},
		{"7th grade kids in 2nd floor hall", []string{"room:floor 2", "place:hallway"}, []string{"clock:date 7"}},
		{"vaping in the B wing bathroom and the c-hall", []string{"room:wing b", "room:hall c", "place:bathroom"}, nil},
		{"someone wrote KYS on Ana's locker, I'm sure", []string{"name:ana"}, []string{"name:kys", "name:i'm"}},
		{"marco said it, ask jalen", []string{"name:marco", "name:jalen"}, nil},
		{"a handful of pills on snapchat, photos circulating on tiktok", []string{"weapon:pills"}, []string{"handle:pills", "handle:circulating"}},
		{"that darkreaper 09 acct", []string{"handle:darkreaper09"}, nil},
		{"a kid in a red hoodie, un chico con sudadera roja, a white truck", []string{"look:red hoodie", "look:white car"}, []string{"word:red", "word:hoodie"}},
		{"Observed him alone. Requesting help. Quote: dont come. Rick posted it", []string{"name:rick"}, []string{"name:observed", "name:requesting"}},
		{"hay un señor gritando, the nurse said, Mr. D was there", nil, []string{"name:gritando", "name:said", "name:mr"}},
		{"Um there is a kid with a gun. Eh idk", []string{"weapon:gun"}, []string{"name:um", "name:eh"}},
	} {
		t.Run(tc.text, func(t *testing.T) {
			var got []string
			for _, s := range triage.Specifics(tc.text) {
				got = append(got, s.String())
			}
			for _, w := range tc.want {
				require.Contains(t, got, w, "specifics of %q", tc.text)
			}
			for _, w := range tc.wantNone {
				require.NotContains(t, got, w, "specifics of %q", tc.text)
			}
		})
	}
}

func TestSpecificsBounded(t *testing.T) {
	var sb strings.Builder
	for i := range 100 {
		fmt.Fprintf(&sb, "@user_%d in room %d with Name%c ", i, i+100, 'a'+rune(i%26))
	}
	got := triage.Specifics(sb.String())
	require.Len(t, got, 24, "a report looks up and indexes at most 24 specifics")
	for _, s := range got {
		require.Equal(t, triage.KindHandle, s.Kind, "the weightiest are kept: %v", s)
	}
}

// FuzzSpecifics: whatever a reporter types, Specifics answers few, short,
// distinct, valid values, because each becomes a Redis key.
func FuzzSpecifics(f *testing.F) {
	for _, s := range []string{
		"@darkreaper_09 posted he's bringing a gun friday",
		"Dicen que Carlos va a traer una pistola el viernes al aula 12",
		"room 204 3:15pm 3/14/2025 3rd period tmrw",
		"@", "@_", "a.b.c.", "'s", "room", "12:99am", "99/99/99999", "\u0301\u0301", "Mr.", "named",
		"\xff\xfe @\xff", strings.Repeat("a_", 200),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := triage.Specifics(text)
		if len(got) > 24 {
			t.Fatalf("%d specifics, want at most 24", len(got))
		}
		seen := map[triage.Specific]bool{}
		for _, s := range got {
			if s.Value == "" || len(s.Value) > 64 || !utf8.ValidString(s.Value) {
				t.Fatalf("specific %q: want 1-64 bytes of UTF-8", s.Value)
			}
			if seen[s] {
				t.Fatalf("specific %v twice", s)
			}
			seen[s] = true
		}
	})
}

// A relative day resolves against the report's arrival, and a place or
// time the reporter gave in its own field counts like one in the text.
func TestClustersJoinReport(t *testing.T) {
	ctx := context.Background()
	c := triage.NewClusters(redistest.New(t, db), time.Hour)
	thursday := time.Date(2026, 4, 2, 14, 0, 0, 0, time.UTC)
	join := func(r triage.Report) string {
		got, err := c.JoinReport(ctx, r)
		require.NoError(t, err)
		return got
	}
	require.Equal(t, "A", join(triage.Report{Org: "lincoln", TipID: "A", At: thursday,
		Body: "marcus keeps saying he's doing it tomorrow"}))
	require.Equal(t, "A", join(triage.Report{Org: "lincoln", TipID: "B", At: thursday.Add(3 * time.Hour),
		Body: "Marcus told people not to come in on Friday"}), `"tomorrow" sent on a Thursday is Friday`)
	require.Equal(t, "C", join(triage.Report{Org: "lincoln", TipID: "C", At: thursday.Add(4 * time.Hour),
		Body: "Marcus told people not to come in on Saturday"}), "another day, another incident")

	// The same words about different places stay apart; the place is in
	// its own field.
	body := "a kid is showing people a gun right now"
	require.Equal(t, "D", join(triage.Report{Org: "roosevelt", TipID: "D", At: thursday, Body: body, Location: "room 204"}))
	require.Equal(t, "E", join(triage.Report{Org: "roosevelt", TipID: "E", At: thursday, Body: body, Location: "room 310"}),
		"same words, another room")
	require.Equal(t, "D", join(triage.Report{Org: "roosevelt", TipID: "F", At: thursday, Body: body, Location: "room 204"}),
		"same words, same room")
}

// TestClustersRetryAfterLostIndexWrite: on a Redis Cluster a report's
// write is two transactions, the cluster's keys and then the
// organisation's index. If the second is lost, the retried join finds the
// same cluster and lists the tip once.
func TestClustersRetryAfterLostIndexWrite(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.New(t, db)
	c := triage.NewClusters(rdb, time.Hour)
	const text = "@ghostkid_07 posted a gun and said Friday is the day"
	first, err := c.Join(ctx, "lincoln", "T1", "ghostkid_07 says friday, with a picture of a gun")
	require.NoError(t, err)
	id, err := c.Join(ctx, "lincoln", "T2", text)
	require.NoError(t, err)
	require.Equal(t, first, id)

	orgKeys := rdb.Keys(ctx, "triage:{lincoln}:ctip:T2").Val()
	require.Len(t, orgKeys, 1, "the organisation's keys share one hash tag")
	require.NoError(t, rdb.Del(ctx, orgKeys...).Err())
	again, err := c.Join(ctx, "lincoln", "T2", text)
	require.NoError(t, err)
	require.Equal(t, first, again)
	members, err := c.Members(ctx, first)
	require.NoError(t, err)
	require.Equal(t, []string{"T1", "T2"}, members, "the retried tip is listed once")
}

// TestJoinReportsAsOneByOne: a batch joins its reports as if they came one
// after another, each after the ones before it had joined, however the
// reports fall into batches. It runs the labelled sets both ways.
func TestJoinReportsAsOneByOne(t *testing.T) {
	ctx := context.Background()
	var reports []triage.Report
	for _, file := range []string{"testdata/corpus.jsonl", "testdata/fresh3.jsonl", "testdata/fresh7.jsonl"} {
		f, err := os.Open(file)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var l struct {
				ID, Org, Body, Location, When string
				ReceivedAt                    time.Time `json:"received_at"`
			}
			require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
			reports = append(reports, triage.Report{Org: l.Org, TipID: file + ":" + l.ID, Body: l.Body,
				Location: l.Location, When: l.When, At: l.ReceivedAt})
		}
		require.NoError(t, f.Close())
	}
	// A copy resent later (a retried task) answers its first cluster.
	reports = append(reports, reports[10], reports[len(reports)-1])

	join := func(batch int) []string {
		c := triage.NewClusters(redistest.New(t, db), 30*24*time.Hour) // flushed
		var got []string
		for lo := 0; lo < len(reports); lo += batch {
			ids, err := c.JoinReports(ctx, reports[lo:min(lo+batch, len(reports))])
			require.NoError(t, err)
			got = append(got, ids...)
		}
		return got
	}
	one := join(1)
	joined := 0
	for i, id := range one {
		if id != reports[i].TipID {
			joined++
		}
	}
	require.Greater(t, joined, 30, "the sets tell incidents more than once")
	for _, batch := range []int{7, 100, len(reports)} {
		require.Equal(t, one, join(batch), "in batches of %d", batch)
	}
}
