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
// with the number of reports stored. A batch of reports costs four round
// trips, however many it holds (see JoinReports), and a key that several of
// its reports use is read and written once.
//
// Keys, all with the window as TTL, refreshed by each report that touches
// them. The braces are Redis Cluster hash tags: an organisation's index
// keys share a slot, and so do a cluster's own keys. The cluster's tag is
// not its first tip's ID, whose keys go when that tip is purged.
//
//	triage:{org}:cluster:fingerprint  string: the cluster of these exact words
//	triage:{org}:cidx:kind:value      zset: clusters with this specific, scored by time (µs), newest 20 kept
//	                                  (members are cluster IDs; "n:ID" and "w:ID" in name keys)
//	triage:{org}:ctip:tip             string: the cluster a tip joined, so a retried Join answers the same
//	triage:{c:cluster}:cspec          set: the cluster's specifics, "kind:value", at most 64
//	triage:{c:cluster}:members        zset: the cluster's tip IDs, scored by arrival (µs)
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
	// A description ("red hoodie", "white truck") is how witnesses who do
	// not know a name tell of a person, but many wear the same: it needs
	// a place, a weapon or a day beside it.
	weightLook = 2.0
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

// keyMembers is a sorted set. Releases before it kept a list under
// "cmembers": a new name, so a Redis upgraded with those still in their
// window never meets a list where a sorted set is expected.
func keyMembers(cluster string) string { return "triage:{c:" + cluster + "}:members" }

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
	ids, err := c.JoinReports(ctx, []Report{r})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// JoinReports joins reports in the order given, each as JoinReport would
// once the reports before it had joined, and returns their clusters. A
// batch costs four round trips, however many reports it holds:
//
//  1. Look up whether each tip was joined before, who has its exact words
//     (claiming them if nobody has, so that a flood of copies arriving at
//     once does not start one cluster each), and which recent clusters
//     share each specific. A specific that several reports name is looked
//     up once.
//  2. Fetch the specifics of the clusters the reports may join.
//  3. Write the clusters, their members and the index. A key that several
//     reports add to is written once.
//  4. Record which cluster each tip joined. It comes last, so a retry
//     after a failure in between joins the tip again; every write is
//     idempotent, so nothing is listed twice.
//
// Each report is scored against the index as Redis holds it with the
// batch's earlier reports laid over it, so two reports of one incident in
// one batch join each other. A cluster that only the batch's own reports
// make a candidate costs one more round trip, for its specifics.
//
// The claim names a tip's own cluster before it is known: if the report
// then joins another cluster by its specifics, a copy in another batch
// that read the claim in between starts a cluster named after this tip.
// Copies within those milliseconds are rare, and the result is a split
// incident, not a lost report.
func (c *Clusters) JoinReports(ctx context.Context, rs []Report) ([]string, error) {
	js := make([]joining, len(rs))
	for i, r := range rs {
		js[i] = prepare(r)
	}

	// Round trip 1.
	var (
		tipCmds = make([]*redis.StringCmd, len(js))
		fpCmds  = make([]*redis.StatusCmd, len(js))
		listCmd = map[string]*redis.StringSliceCmd{}
	)
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, j := range js {
			tipCmds[i] = p.Get(ctx, j.tipKey)
			fpCmds[i] = p.SetArgs(ctx, j.fpKey, j.r.TipID, redis.SetArgs{Mode: "NX", Get: true, TTL: c.window})
			for _, k := range j.keys {
				if listCmd[k] == nil {
					listCmd[k] = p.ZRevRange(ctx, k, 0, perKey-1)
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("triage: cluster: look up: %w", err)
	}
	// Pipelined answers the first command's error, and a tip not joined
	// before answers redis.Nil: every other command is checked too, or
	// a failed look-up would read as an empty index.
	for _, cmd := range listCmd {
		if err := cmd.Err(); err != nil {
			return nil, fmt.Errorf("triage: cluster: look up: %w", err)
		}
	}
	for i := range js {
		for _, err := range []error{tipCmds[i].Err(), fpCmds[i].Err()} {
			if err != nil && !errors.Is(err, redis.Nil) {
				return nil, fmt.Errorf("triage: cluster: look up: %w", err)
			}
		}
	}
	idx := newOverlay(len(listCmd))
	for k, cmd := range listCmd {
		idx.stored[k] = cmd.Val()
	}
	for i := range js {
		j := &js[i]
		if id, err := tipCmds[i].Result(); err == nil {
			j.cluster = id // joined before: a retried task
		} else if exact := fpCmds[i].Val(); exact != "" && exact != j.r.TipID { // not our own claim from a failed attempt
			j.exact = exact
		}
	}

	// Round trip 2, for the candidates that the index as stored names.
	specsOf := map[string]map[Specific]bool{}
	var want []string
	for _, j := range js {
		if j.cluster == "" && j.exact == "" {
			cands, _ := candidates(j.specs, idx.stored.lists(j.keys))
			for _, cd := range cands {
				want = append(want, cd.id)
			}
		}
	}
	if err := c.fetch(ctx, want, specsOf); err != nil {
		return nil, err
	}

	// Each report in turn, over the batch's earlier ones.
	w := newBatchWrite()
	joined := map[string]string{} // tip: the cluster it joined in this batch
	base := time.Now()
	for i := range js {
		j := &js[i]
		if id, ok := joined[j.r.TipID]; ok { // the same tip twice
			j.cluster = id
			continue
		}
		if j.cluster != "" {
			joined[j.r.TipID] = j.cluster
			continue
		}
		at := base.Add(time.Duration(i) * time.Microsecond) // the batch's order, newest last
		add := true
		j.cluster = j.r.TipID
		if j.exact != "" {
			// An exact resubmission joins whatever the scores, and has no
			// specifics its cluster lacks.
			j.cluster, add = cmp.Or(joined[j.exact], j.exact), false
		} else {
			lists := idx.lists(j.keys)
			cands, hot := candidates(j.specs, lists)
			ids := make([]string, len(cands))
			for n, cd := range cands {
				ids[n] = cd.id
			}
			if err := c.fetch(ctx, ids, specsOf); err != nil {
				return nil, err
			}
			if id := choose(j.specs, cands, specsOf, hot); id != "" {
				j.cluster = id
			}
		}
		joined[j.r.TipID] = j.cluster
		w.join(j, add, specsOf, cmp.Or(j.r.At, at))
		idx.addReport(j, at)
	}

	// Round trips 3 and 4.
	if _, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		w.write(ctx, p, c.window)
		idx.write(ctx, p, c.window)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("triage: cluster: record: %w", err)
	}
	if _, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		w.writeTips(ctx, p, c.window)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("triage: cluster: record: %w", err)
	}
	ids := make([]string, len(js))
	for i, j := range js {
		ids[i] = j.cluster
	}
	return ids, nil
}

// joining is one report on its way into a cluster.
type joining struct {
	r             Report
	specs         []Specific // weightiest first
	keys          []string   // specs' index keys
	fpKey, tipKey string
	exact         string // the tip that first sent these exact words
	cluster       string // the answer
}

// prepare reads a report's specifics and names its keys.
func prepare(r Report) joining {
	text := r.Body
	for _, f := range []string{r.Location, r.When} {
		if strings.TrimSpace(f) != "" {
			text += "\n" + f
		}
	}
	// The organisation's own name ("Lincoln" at lincoln-high) is in
	// reports of every incident there.
	orgWords := strings.FieldsFunc(strings.ToLower(r.Org), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	specs := slices.DeleteFunc(resolveDays(Specifics(text), r.At), func(s Specific) bool {
		return (s.Kind == KindName || s.Kind == KindWord) && slices.Contains(orgWords, s.Value)
	})
	// Specifics are distinct, and a name and a word of the same value
	// never both, so keys are distinct too.
	keys := make([]string, len(specs))
	for i, s := range specs {
		keys[i] = keyIndex(r.Org, s.Kind.indexKind(), s.Value)
	}
	return joining{r: r, specs: specs, keys: keys,
		fpKey: keyCluster(r.Org, fingerprint(text)), tipKey: keyTipCluster(r.Org, r.TipID)}
}

// fetch reads the specifics of the clusters in ids that specsOf lacks,
// in one round trip if any. An expired cluster has none.
func (c *Clusters) fetch(ctx context.Context, ids []string, specsOf map[string]map[Specific]bool) error {
	ids = slices.DeleteFunc(ids, func(id string) bool { _, ok := specsOf[id]; return ok })
	if len(ids) == 0 {
		return nil
	}
	cmds := map[string]*redis.StringSliceCmd{}
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			if cmds[id] == nil {
				cmds[id] = p.SMembers(ctx, keySpecifics(id))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("triage: cluster: fetch candidates: %w", err)
	}
	for id, cmd := range cmds {
		specs := make(map[Specific]bool, len(cmd.Val()))
		for _, m := range cmd.Val() {
			if s, ok := parseSpecific(m); ok {
				specs[s] = true
			}
		}
		specsOf[id] = specs
	}
	return nil
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

// candidates ranks the clusters that a report's index keys list (lists,
// newest first) by the most they could score from the index alone, and
// returns the few that can reach the threshold, likeliest first, with the
// report's hot values: those whose index key is full.
func candidates(specs []Specific, lists [][]string) ([]*candidate, map[string]bool) {
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
	var fetch []*candidate
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
	slices.SortFunc(fetch, func(a, b *candidate) int {
		return cmp.Or(cmp.Compare(b.bound, a.bound), cmp.Compare(a.rank, b.rank), strings.Compare(a.id, b.id))
	})
	return fetch[:min(len(fetch), maxCandidates)], hot
}

// choose returns the candidate whose specifics (specsOf, fetched) score
// highest against the report's, at least joinThreshold, or "".
func choose(specs []Specific, cands []*candidate, specsOf map[string]map[Specific]bool, hot map[string]bool) string {
	var (
		chosen string
		top    float64
	)
	for _, cd := range cands {
		// Strictly greater: among equal scores the first, the likelier
		// and more recent, wins.
		if sc := score(specs, specsOf[cd.id], hot); sc >= joinThreshold && sc > top {
			chosen, top = cd.id, sc
		}
	}
	return chosen
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
}

// storedLists are index keys as Redis holds them: their newest perKey
// members, newest first.
type storedLists map[string][]string

// lists answers the lists of keys, in order.
func (s storedLists) lists(keys []string) [][]string {
	out := make([][]string, len(keys))
	for i, k := range keys {
		out[i] = s[k]
	}
	return out
}

// overlay is the index as a batch sees it: what Redis holds, and the
// batch's own additions over it.
type overlay struct {
	stored storedLists
	// added holds a key's members that the batch added, newest first and
	// at most perKey: the rest would be trimmed. at says when each was.
	added map[string][]string
	at    map[string]map[string]time.Time
	order []string // keys in the order first added to
}

func newOverlay(n int) *overlay {
	return &overlay{stored: make(storedLists, n), added: map[string][]string{}, at: map[string]map[string]time.Time{}}
}

// lists answers the lists of keys, in order, as they are after the
// batch's additions so far.
func (o *overlay) lists(keys []string) [][]string {
	out := o.stored.lists(keys)
	for i, k := range keys {
		added := o.added[k]
		if len(added) == 0 {
			continue
		}
		l := slices.Clone(added)
		for _, m := range o.stored[k] {
			if len(l) >= perKey {
				break
			}
			if !slices.Contains(added, m) {
				l = append(l, m)
			}
		}
		out[i] = l
	}
	return out
}

// addReport lists a joined report's cluster in each of its index keys.
func (o *overlay) addReport(j *joining, at time.Time) {
	for n, k := range j.keys {
		o.add(k, indexMember(j.specs[n].Kind, j.cluster), at)
	}
}

// add lists member in key as its newest.
func (o *overlay) add(key, member string, at time.Time) {
	if o.at[key] == nil {
		o.at[key] = map[string]time.Time{}
		o.order = append(o.order, key)
	}
	o.at[key][member] = at
	l := slices.DeleteFunc(o.added[key], func(m string) bool { return m == member })
	o.added[key] = slices.Insert(l[:min(len(l), perKey-1)], 0, member)
}

// write queues the batch's additions to the index. A key keeps its newest
// perKey members; it is trimmed when this write can grow it past that,
// or may: a key not looked up is always trimmed.
func (o *overlay) write(ctx context.Context, p redis.Pipeliner, window time.Duration) {
	for _, k := range o.order {
		added := o.added[k]
		stored, looked := o.stored[k]
		zs := make([]redis.Z, len(added))
		grown := len(stored)
		for i, m := range added {
			zs[i] = redis.Z{Score: float64(o.at[k][m].UnixMicro()), Member: m}
			if !slices.Contains(stored, m) {
				grown++
			}
		}
		p.ZAdd(ctx, k, zs...)
		if grown > perKey || !looked {
			p.ZRemRangeByRank(ctx, k, 0, -perKey-1)
		}
		p.Expire(ctx, k, window)
	}
}

// batchWrite gathers what a batch writes to its clusters.
type batchWrite struct {
	joins    []*joining // the reports joined, in order
	clusters []string   // the clusters they joined, each once
	gains    map[string][]any
	members  map[string][]redis.Z
}

func newBatchWrite() *batchWrite {
	return &batchWrite{gains: map[string][]any{}, members: map[string][]redis.Z{}}
}

// join records a report in its cluster, received at. With add, the
// cluster gains the report's specifics it lacks (specsOf, which is kept
// up to date), the weightiest first, up to maxClusterSpecifics.
func (w *batchWrite) join(j *joining, add bool, specsOf map[string]map[Specific]bool, at time.Time) {
	if _, ok := w.members[j.cluster]; !ok {
		w.clusters = append(w.clusters, j.cluster)
	}
	w.members[j.cluster] = append(w.members[j.cluster], redis.Z{Score: float64(at.UnixMicro()), Member: j.r.TipID})
	w.joins = append(w.joins, j)
	if !add {
		return
	}
	have := specsOf[j.cluster]
	if have == nil {
		have = map[Specific]bool{}
		specsOf[j.cluster] = have
	}
	for _, s := range j.specs {
		if len(have) >= maxClusterSpecifics {
			break
		}
		if !have[s] {
			have[s] = true
			w.gains[j.cluster] = append(w.gains[j.cluster], s.String())
		}
	}
}

// write queues the writes to the clusters and to the reports' exact
// words. Each is idempotent: a set's members, a member listed once
// (ZADD NX keeps its first arrival), a string set again.
func (w *batchWrite) write(ctx context.Context, p redis.Pipeliner, window time.Duration) {
	for _, cl := range w.clusters {
		if g := w.gains[cl]; len(g) > 0 {
			p.SAdd(ctx, keySpecifics(cl), g...)
		}
		p.Expire(ctx, keySpecifics(cl), window)
		p.ZAddNX(ctx, keyMembers(cl), w.members[cl]...)
		p.Expire(ctx, keyMembers(cl), window)
	}
	for _, j := range w.joins {
		p.Set(ctx, j.fpKey, j.cluster, window)
	}
}

// writeTips queues what records each report's tip as joined. It goes
// after write's commands have run: a tip found joined is fully recorded.
func (w *batchWrite) writeTips(ctx context.Context, p redis.Pipeliner, window time.Duration) {
	for _, j := range w.joins {
		p.Set(ctx, j.tipKey, j.cluster, window)
	}
}

// Members returns the IDs of a cluster's tips in the order they joined,
// or ErrClusterNotFound once its window has passed.
func (c *Clusters) Members(ctx context.Context, clusterID string) ([]string, error) {
	ids, err := c.rdb.ZRange(ctx, keyMembers(clusterID), 0, -1).Result()
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
	n, err := c.rdb.ZCard(ctx, keyMembers(clusterID)).Result()
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
		case KindLook:
			if cluster[x] {
				s += weightLook
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
	KindLook   Kind = "look"   // a description of someone or their car: "red hoodie", "white truck"
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
	case KindLook:
		return weightLook
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
