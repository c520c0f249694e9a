package triage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"
)

// ErrClusterNotFound is what Members and Size answer for a cluster that
// was never made or whose window has passed.
var ErrClusterNotFound = errors.New("triage: cluster not found")

// Clusters joins reports of the same incident, per organisation, within a
// window after the cluster's last report: exact resubmissions by a
// fingerprint of their words, and paraphrases by the specifics they share
// (an account handle, a name, a room, a day, a weapon).
//
// Candidates come from an index kept in Redis, one small sorted set per
// organisation and specific, so a report looks up only its own specifics
// and a bounded number of recent clusters for each: its cost does not grow
// with the number of reports stored. A report costs two or three round
// trips: look up (the report's index keys, its fingerprint, whether it was
// joined before), fetch the specifics of the best candidates, write.
//
// Keys, all with the window as TTL, refreshed by each report that touches
// them. The braces are Redis Cluster hash tags: an organisation's index
// keys share a slot, and so do a cluster's own keys, so a report's write
// is two atomic parts even on a Cluster. The cluster's tag is not its
// first tip's ID, whose keys go when that tip is purged.
//
//	triage:{org}:cluster:fingerprint  string: the cluster of these exact words
//	triage:{org}:cidx:kind:value      zset: clusters with this specific, scored by time, newest 20 kept
//	                                  (members are cluster IDs; "n:ID" and "w:ID" in name keys)
//	triage:{org}:ctip:tip             string: the cluster a tip joined, so a retried Join answers the same
//	triage:{c:cluster}:cspec          set: the cluster's specifics, "kind:value", at most 64
//	triage:{c:cluster}:cmembers       list: the cluster's tip IDs in arrival order
type Clusters struct {
	rdb    redis.UniversalClient
	window time.Duration
}

// NewClusters returns clusters kept in rdb for window after a report.
func NewClusters(rdb redis.UniversalClient, window time.Duration) *Clusters {
	return &Clusters{rdb: rdb, window: window}
}

// Bounds that keep a report's cost constant however many are stored.
const (
	// maxSpecifics is how many of a report's specifics are looked up and
	// indexed, the weightiest first. A long report names more details
	// than any two reports of one incident need to share.
	maxSpecifics = 24
	// perKey is how many clusters an index key keeps, the newest. A
	// specific shared by more clusters than this (a weekday, "gun") says
	// little on its own; the clusters it drops are found, if at all, by
	// rarer specifics.
	perKey = 20
	// maxCandidates is how many clusters' specifics are fetched to score.
	maxCandidates = 16
	// maxClusterSpecifics bounds a cluster's set: a viral incident gets
	// hundreds of reports, and its union of details must neither grow
	// without end nor end up matching everything.
	maxClusterSpecifics = 64
)

// Scoring. A candidate cluster's score is the sum of the weights of the
// specifics the report shares with it, less penalties for details that
// disagree; the report joins the best cluster scoring at least
// joinThreshold. A weight is roughly how many of the weakest kind of
// evidence (a weekday, a weapon) the specific is worth.
const (
	joinThreshold = 4.0

	// An account handle is close to unique within an organisation and a
	// window: sharing one joins on its own.
	weightHandle = 6.0
	// A personal name is shared by a few people in a school, so it needs
	// one more detail to join ("Jake" and a gun). A first and last name
	// together join.
	weightName = 3.0
	// A word one report capitalised as a name and another wrote in lower
	// case ("Jake", "jake") is likely the same name, with less certainty:
	// texts are often written all in lower case, and a lower-case word
	// that is no common word and matches a name is seldom anything else.
	weightNameOneSided = 2.5
	// A numbered room, bus or building pins a place about as tightly as a
	// name pins a person.
	weightRoom = 3.0
	// A named place ("the gym", "parking lot") is shared by many incidents.
	weightPlace = 1.5
	// A class period, clock time or date narrows "when" to an hour or a day.
	weightClock = 1.5
	// A day ("friday", "tomorrow") is in many threats at once.
	weightDay = 1.0
	// A weapon alone is the commonest detail of the reports that matter.
	weightWeapon = 1.0
	// Any other uncommon word may be a lower-case name or a detail of the
	// story ("stall", "hoodie"), or just the reporter's style.
	weightWord = 0.75
	// Words together never reach the threshold alone: reports in the same
	// style about different incidents share words.
	maxWordScore = 2.0
	// Two specific rooms that differ speak against one incident ("room
	// 204" against "room 310"), but a handle can outweigh them: a threat
	// can name two places.
	penaltyRoom = 2.0
	// Two named places or two weekdays that differ, likewise, weaker.
	penaltyPlace = 1.0
	penaltyDay   = 1.0
	// hotFactor discounts a name or word whose index key is full: in this
	// organisation it is in many recent clusters (a common first name in
	// a big school, the name of the town), so it tells incidents apart
	// less. It is the index's own measure of how rare a word is.
	hotFactor = 0.5
)

func keyCluster(org, fp string) string { return "triage:{" + org + "}:cluster:" + fp }
func keyIndex(org, kind, value string) string {
	return "triage:{" + org + "}:cidx:" + kind + ":" + value
}
func keyTipCluster(org, tip string) string { return "triage:{" + org + "}:ctip:" + tip }
func keySpecifics(cluster string) string   { return "triage:{c:" + cluster + "}:cspec" }
func keyMembers(cluster string) string     { return "triage:{c:" + cluster + "}:cmembers" }

// Join returns the cluster of a report: the cluster of an earlier report
// with the same words, else the best-scoring cluster sharing its
// specifics, else a new one whose ID is the report's own. Joining the same
// tip again answers the same cluster and records nothing twice.
//
// Join reads only the text, and leaves relative days ("tomorrow") as
// written; JoinReport reads a whole report.
func (c *Clusters) Join(ctx context.Context, org, tipID, text string) (string, error) {
	return c.JoinReport(ctx, Report{Org: org, TipID: tipID, Body: text})
}

// Report is what clustering reads of a tip.
type Report struct {
	Org, TipID string
	// Body, Location and When are what the reporter wrote: a place or time
	// given in its own field tells incidents apart as much as one in the
	// text.
	Body, Location, When string
	// At is when the report was received. Relative days resolve against it
	// in its time zone, so "tomorrow" sent on a Thursday matches "Friday".
	// Zero leaves them as written.
	At time.Time
}

// JoinReport is Join for a whole report: its text, place and time fields,
// with relative days resolved against its arrival.
func (c *Clusters) JoinReport(ctx context.Context, r Report) (string, error) {
	org, tipID := r.Org, r.TipID
	text := r.Body
	for _, f := range []string{r.Location, r.When} {
		if strings.TrimSpace(f) != "" {
			text += "\n" + f
		}
	}
	// The organisation's own name ("Lincoln" at lincoln-high) is in
	// reports of every incident there.
	orgWords := strings.FieldsFunc(strings.ToLower(org), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	specs := slices.DeleteFunc(resolveDays(Specifics(text), r.At), func(s Specific) bool {
		return (s.Kind == KindName || s.Kind == KindWord) && slices.Contains(orgWords, s.Value)
	})
	keys := make([]string, len(specs))
	for i, s := range specs {
		keys[i] = keyIndex(org, s.Kind.indexKind(), s.Value)
	}
	e := entry{
		org: org, cluster: tipID, tip: tipID, specs: specs, keys: keys, at: time.Now(),
		fpKey: keyCluster(org, fingerprint(text)), tipKey: keyTipCluster(org, tipID),
		add: true, trim: make([]bool, len(keys)),
	}

	// Round trip 1: was this tip joined before, who has these exact words
	// (claiming them if nobody has, so that a flood of copies arriving at
	// once does not start one cluster each), and which recent clusters
	// share each specific. Specifics are distinct, and a name and a word
	// of the same value never both, so keys are distinct too.
	//
	// The claim names this tip's own cluster before it is known: if this
	// report then joins another cluster by its specifics, a copy that read
	// the claim in between starts a cluster named after this tip. Copies
	// within those milliseconds are rare, and the result is a split
	// incident, not a lost report.
	var (
		tipCmd *redis.StringCmd
		fpCmd  *redis.StatusCmd
		idx    = make([]*redis.StringSliceCmd, len(keys))
	)
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		tipCmd = p.Get(ctx, e.tipKey)
		fpCmd = p.SetArgs(ctx, e.fpKey, tipID, redis.SetArgs{Mode: "NX", Get: true, TTL: c.window})
		for i, k := range keys {
			idx[i] = p.ZRevRange(ctx, k, 0, perKey-1)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("triage: cluster: look up: %w", err)
	}
	if id, err := tipCmd.Result(); err == nil {
		return id, nil
	}
	lists := make([][]string, len(idx))
	for i, cmd := range idx {
		lists[i] = cmd.Val()
	}

	if exact := fpCmd.Val(); exact != "" && exact != tipID { // not our own claim from a failed attempt
		// An exact resubmission joins whatever the scores, and has no
		// specifics its cluster lacks.
		e.cluster, e.add = exact, false
	} else if cd, err := c.best(ctx, specs, lists); err != nil {
		return "", err
	} else if cd != nil {
		e.cluster, e.have = cd.id, cd.specs
	}

	// An index key is trimmed back to perKey only when this write can grow
	// it past that.
	for i, l := range lists {
		e.trim[i] = len(l) >= perKey && !slices.Contains(l, indexMember(specs[i].Kind, e.cluster))
	}
	// Round trip 3: record the report under its cluster, atomically so a
	// retry after a failure does not list the tip twice.
	_, err = c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		c.record(ctx, p, e)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("triage: cluster: record: %w", err)
	}
	return e.cluster, nil
}

// relativeDays are the days Specifics names by their distance from the
// day a report was sent.
var relativeDays = map[string]int{"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1, "day after tomorrow": 2}

// resolveDays names relative days by the weekday they fall on, counted
// from at: "tomorrow" sent on a Thursday is "friday", so it matches a
// report that said "Friday". A day both reports name the same way already
// matched; one named by weekday in one and relatively in the other now
// does too. Specifics keep their order (weightiest first), each once.
func resolveDays(specs []Specific, at time.Time) []Specific {
	if at.IsZero() {
		return specs
	}
	seen := make(map[Specific]bool, len(specs))
	out := specs[:0]
	for _, s := range specs {
		if d, ok := relativeDays[s.Value]; ok && s.Kind == KindDay {
			s.Value = strings.ToLower(at.AddDate(0, 0, d).Weekday().String())
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// best returns the cluster a report with these specifics joins, or nil;
// lists are the clusters each specific's index key holds, newest first.
func (c *Clusters) best(ctx context.Context, specs []Specific, lists [][]string) (*candidate, error) {
	// Rank candidates by the most they could score from the index alone,
	// so that only the few that can reach the threshold are fetched.
	hot := map[string]bool{}
	var full float64 // the most the report's full keys could add
	for i, l := range lists {
		if len(l) >= perKey {
			hot[specs[i].Value] = true
			full += maxBound(specs[i], hot)
		}
	}
	cands := map[string]*candidate{}
	for i, l := range lists {
		for rank, m := range l {
			id, kind := parseIndexMember(m)
			cd := cands[id]
			if cd == nil {
				cd = &candidate{id: id, rank: rank}
				cands[id] = cd
			}
			w := bound(specs[i], kind, hot)
			if specs[i].Kind == KindWord && kind == KindWord {
				cd.words += w
			} else {
				cd.bound += w
			}
			if len(l) >= perKey {
				cd.fullListed += maxBound(specs[i], hot)
			} else {
				cd.rare = true
			}
			cd.rank = min(cd.rank, rank)
		}
	}
	fetch := make([]*candidate, 0, len(cands))
	for _, cd := range cands {
		cd.bound += min(cd.words, maxWordScore)
		// A full key lists only its newest clusters: a cluster found by a
		// rarer specific may share the common ones too ("Jake" found it;
		// "friday" and "gun" no longer list it). Count them as shared
		// until its specifics say.
		if cd.rare {
			cd.bound += full - cd.fullListed
		}
		if cd.bound >= joinThreshold {
			fetch = append(fetch, cd)
		}
	}
	if len(fetch) == 0 {
		return nil, nil
	}
	slices.SortFunc(fetch, func(a, b *candidate) int {
		return cmp.Or(cmp.Compare(b.bound, a.bound), cmp.Compare(a.rank, b.rank), strings.Compare(a.id, b.id))
	})
	fetch = fetch[:min(len(fetch), maxCandidates)]

	// Round trip 2: the candidates' specifics. An expired cluster has none.
	cmds := make([]*redis.StringSliceCmd, len(fetch))
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, cd := range fetch {
			cmds[i] = p.SMembers(ctx, keySpecifics(cd.id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("triage: cluster: fetch candidates: %w", err)
	}
	var (
		chosen *candidate
		top    float64
	)
	for i, cd := range fetch {
		cd.specs = make(map[Specific]bool, len(cmds[i].Val()))
		for _, m := range cmds[i].Val() {
			if s, ok := parseSpecific(m); ok {
				cd.specs[s] = true
			}
		}
		if len(cd.specs) == 0 {
			continue
		}
		// Strictly greater: among equal scores the first, the likelier
		// and more recent, wins.
		if sc := score(specs, cd.specs, hot); sc >= joinThreshold && sc > top {
			chosen, top = cd, sc
		}
	}
	return chosen, nil
}

// candidate is a cluster that shares specifics with a report.
type candidate struct {
	id    string
	bound float64 // the most it can score, from the index
	words float64 // the part of bound from words, before maxWordScore
	// rare: it was found in an index key that is not full; fullListed:
	// the most the full keys that list it add.
	rare       bool
	fullListed float64
	rank       int // its best place in the report's index keys, 0 the newest
	specs      map[Specific]bool
}

// entry is one report to record under its cluster.
type entry struct {
	org, cluster, tip string
	fpKey, tipKey     string
	specs             []Specific
	keys              []string          // specs' index keys
	trim              []bool            // which keys may grow past perKey; nil: all
	add               bool              // add specs the cluster lacks
	have              map[Specific]bool // the cluster's specifics, as fetched
	at                time.Time
}

// record queues the writes that put a report in its cluster: first the
// cluster's own keys, then the organisation's index. On a Redis Cluster
// the two parts are separate transactions; if the second is lost, a retry
// finds the tip not yet joined, joins it again, and addMember keeps it
// from being listed twice.
func (c *Clusters) record(ctx context.Context, p redis.Pipeliner, e entry) {
	var add []any
	room := maxClusterSpecifics - len(e.have)
	for _, s := range e.specs { // weightiest first
		if !e.add || len(add) >= room {
			break
		}
		if !e.have[s] {
			add = append(add, s.String())
		}
	}
	if len(add) > 0 {
		p.SAdd(ctx, keySpecifics(e.cluster), add...)
	}
	p.Expire(ctx, keySpecifics(e.cluster), c.window)
	// EVAL, not EVALSHA: inside a transaction a missing script cannot be retried.
	addMember.Eval(ctx, p, []string{keyMembers(e.cluster)}, e.tip, int(c.window.Seconds()))

	score := float64(e.at.UnixMilli())
	for i, k := range e.keys {
		p.ZAdd(ctx, k, redis.Z{Score: score, Member: indexMember(e.specs[i].Kind, e.cluster)})
		if e.trim == nil || e.trim[i] {
			p.ZRemRangeByRank(ctx, k, 0, -perKey-1)
		}
		p.Expire(ctx, k, c.window)
	}
	p.Set(ctx, e.fpKey, e.cluster, c.window)
	p.Set(ctx, e.tipKey, e.cluster, c.window)
}

// addMember appends a tip to a cluster's members unless it is there, and
// renews the list's TTL.
var addMember = redis.NewScript(`
if not redis.call("LPOS", KEYS[1], ARGV[1]) then
  redis.call("RPUSH", KEYS[1], ARGV[1])
end
redis.call("EXPIRE", KEYS[1], ARGV[2])
return 1`)

// Members returns the IDs of a cluster's tips in the order they joined,
// or ErrClusterNotFound once its window has passed.
func (c *Clusters) Members(ctx context.Context, clusterID string) ([]string, error) {
	ids, err := c.rdb.LRange(ctx, keyMembers(clusterID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("triage: cluster members: %w", err)
	}
	if len(ids) == 0 {
		return nil, ErrClusterNotFound
	}
	return ids, nil
}

// Size returns how many tips a cluster has, or ErrClusterNotFound once its
// window has passed.
func (c *Clusters) Size(ctx context.Context, clusterID string) (int, error) {
	n, err := c.rdb.LLen(ctx, keyMembers(clusterID)).Result()
	if err != nil {
		return 0, fmt.Errorf("triage: cluster size: %w", err)
	}
	if n == 0 {
		return 0, ErrClusterNotFound
	}
	return int(n), nil
}

// score weighs what a report shares with a cluster's specifics; hot holds
// the names and words common in the organisation just now. See the
// weights for why each counts as it does.
func score(report []Specific, cluster map[Specific]bool, hot map[string]bool) float64 {
	if len(cluster) == 0 {
		return 0
	}
	// What each side names, and what they share, by kind.
	var r, c, shared struct{ handle, name, room, place, weekday bool }
	var s, words float64
	strongName := false // a name both capitalised
	discount := func(v string) float64 {
		if hot[v] {
			return hotFactor
		}
		return 1
	}
	for _, x := range report {
		switch x.Kind {
		case KindHandle:
			r.handle = true
			if cluster[x] {
				s += weightHandle
				shared.handle = true
			}
		case KindName:
			r.name = true
			if cluster[x] {
				s += weightName * discount(x.Value)
				shared.name, strongName = true, true
			} else if cluster[Specific{KindWord, x.Value}] {
				s += weightNameOneSided * discount(x.Value)
				shared.name = true
			}
		case KindWord:
			if cluster[Specific{KindName, x.Value}] {
				s += weightNameOneSided * discount(x.Value)
				shared.name = true
			} else if cluster[x] {
				words += weightWord * discount(x.Value)
			}
		case KindRoom:
			r.room = true
			if cluster[x] {
				s += weightRoom
				shared.room = true
			}
		case KindPlace:
			r.place = true
			if cluster[x] {
				s += weightPlace
				shared.place = true
			}
		case KindClock:
			if cluster[x] {
				s += weightClock
			}
		case KindDay:
			if cluster[x] {
				s += weightDay
			}
			if specWeekdays[x.Value] {
				r.weekday = true
				shared.weekday = shared.weekday || cluster[x]
			}
		case KindWeapon:
			if cluster[x] {
				s += weightWeapon
			}
		}
	}
	for x := range cluster {
		switch x.Kind {
		case KindHandle:
			c.handle = true
		case KindName:
			c.name = true
		case KindRoom:
			c.room = true
		case KindPlace:
			c.place = true
		case KindDay:
			c.weekday = c.weekday || specWeekdays[x.Value]
		}
	}
	// Both name an account, or both name a person, and they share none:
	// two incidents told alike ("@darkreaper_09 posted..." and
	// "@nightowl_22 posted...", "Jake posted..." and "Mia posted...").
	// Nothing else outweighs it, unless the other kind of identity is
	// shared: one person may go by two accounts.
	if r.handle && c.handle && !shared.handle && !strongName {
		return 0
	}
	if r.name && c.name && !shared.name && !shared.handle {
		return 0
	}
	s += min(words, maxWordScore)
	if r.room && c.room && !shared.room {
		s -= penaltyRoom
	}
	if r.place && c.place && !shared.place {
		s -= penaltyPlace
	}
	if r.weekday && c.weekday && !shared.weekday {
		s -= penaltyDay
	}
	return s
}

// Kind is what a specific tells about an incident: who, where, when, with
// what.
type Kind string

// The kinds of specifics.
const (
	KindHandle Kind = "handle" // a social media account: "@darkreaper_09", "darkreaper_09 on insta"
	KindName   Kind = "name"   // a personal name: "Jake", "Mr. Smith"
	KindRoom   Kind = "room"   // a numbered place: "room 204", "aula 12", "bus 14"
	KindPlace  Kind = "place"  // a named place or event: "gym", "parking lot", "assembly"
	KindClock  Kind = "clock"  // a period, clock time or date: "period 3", "3pm", "date 3/14"
	KindDay    Kind = "day"    // a day or part of one: "friday", "tomorrow", "lunch"
	KindWeapon Kind = "weapon" // a weapon or means of harm: "gun", "knife", "bomb", "pills"
	KindWord   Kind = "word"   // any other uncommon word or number
)

// weight is what sharing a specific of this kind is worth; see the
// weights' comments.
func (k Kind) weight() float64 {
	switch k {
	case KindHandle:
		return weightHandle
	case KindName:
		return weightName
	case KindRoom:
		return weightRoom
	case KindPlace:
		return weightPlace
	case KindClock:
		return weightClock
	case KindDay:
		return weightDay
	case KindWeapon:
		return weightWeapon
	}
	return weightWord
}

// indexKind is the kind an index key is filed under. Names and words share
// one, so that "jake" in one report finds "Jake" in another.
func (k Kind) indexKind() string {
	if k == KindWord {
		return string(KindName)
	}
	return string(k)
}

// Specific is one detail of a report that tells its incident from others.
// Values are lower case, without accents, plurals or possessives, and in
// English when the report used a Spanish or text-speak word for a day,
// place or weapon ("viernes" and "fri" are "friday").
type Specific struct {
	Kind  Kind
	Value string
}

// String is the specific as kept in Redis, "kind:value".
func (s Specific) String() string { return string(s.Kind) + ":" + s.Value }

func parseSpecific(m string) (Specific, bool) {
	k, v, ok := strings.Cut(m, ":")
	return Specific{Kind(k), v}, ok && v != ""
}

// bound is the most that a report's specific s, found in an index key
// beside a cluster's specific of kind k, can add to the cluster's score.
func bound(s Specific, k Kind, hot map[string]bool) float64 {
	w := s.Kind.weight()
	switch {
	case s.Kind == KindName && k == KindWord, s.Kind == KindWord && k == KindName:
		w = weightNameOneSided
	case s.Kind == KindWord && k == KindWord:
		w = weightWord
	}
	if (s.Kind == KindName || s.Kind == KindWord) && hot[s.Value] {
		w *= hotFactor
	}
	return w
}

// maxBound is the most a report's specific can add to any cluster's score.
func maxBound(s Specific, hot map[string]bool) float64 {
	return max(bound(s, KindName, hot), bound(s, KindWord, hot), bound(s, "", hot))
}

// indexMember is how a cluster is listed in the index key of one of its
// specifics. Names and words share keys, so their members say which they
// are ("n:" or "w:"): the score of "jake" against "Jake" is known before
// the cluster is fetched.
func indexMember(k Kind, cluster string) string {
	switch k {
	case KindName:
		return "n:" + cluster
	case KindWord:
		return "w:" + cluster
	}
	return cluster
}

// parseIndexMember reads indexMember's answer; kind is "" but for names
// and words.
func parseIndexMember(m string) (cluster string, kind Kind) {
	if len(m) > 2 && m[1] == ':' {
		switch m[0] {
		case 'n':
			return m[2:], KindName
		case 'w':
			return m[2:], KindWord
		}
	}
	return m, ""
}
