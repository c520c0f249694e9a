package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/triage"
	"github.com/tipline/tipline/web"
	"github.com/tipline/tipline/web/account"
	"github.com/tipline/tipline/web/audit"
)

// taskCheckInterval is how long an idle worker waits before asking Redis for
// work again. asynq's default of one second is too slow to page: this keeps
// the median from a critical tip's 201 to its page request in tens of
// milliseconds, for a few cheap Redis calls a second.
const taskCheckInterval = 20 * time.Millisecond

// workerPool is one asynq server of a worker process: its queues, taken in
// strict order, and how many tasks it runs at once.
type workerPool struct {
	name        string
	queues      map[string]int
	concurrency int
	batch       bool // aggregate routine tips into triage.TypeBatch tasks
}

// workerPools splits the four queues between two sets of workers, each
// strict in its own order. Life-safety tasks have workers that no flood of
// routine tips can occupy, and a routine task is dequeued with one Redis
// call rather than one for each queue above it (asynq asks the queues in
// turn). Tasks wait on Redis and Twilio far more than they compute: asynq's
// default of one per CPU leaves the CPUs idle and drains a backlog at half
// the rate.
func workerPools() []workerPool {
	return []workerPool{
		{name: "urgent", queues: map[string]int{string(triage.Critical): 2, string(triage.High): 1}, concurrency: 32},
		{name: "routine", queues: map[string]int{string(triage.Normal): 2, string(triage.Low): 1}, concurrency: 64, batch: true},
	}
}

// app is one tipline process: the clients it holds and the parts its role runs.
type app struct {
	st   settings
	cfg  *config
	log  *slog.Logger
	rdb  redis.UniversalClient
	aopt asynq.RedisConnOpt

	client  *asynq.Client
	intake  *intake.Intake
	handler *triage.Handler
	sweeper *triage.Sweeper
	pager   *notify.Pager
	sms     *intake.SMS
	web     http.Handler
	workers workerState

	// retention purges closed tips past the config's retention_days.
	retention *intake.Retention

	closers []func() error
}

// workerState is what /readyz knows of this process's workers: started,
// and asynq's last ping of Redis.
type workerState struct {
	started atomic.Bool
	pingErr atomic.Pointer[error]
}

// ready answers nil when the workers run and their last ping of Redis
// worked. Its messages are fixed strings: /readyz shows them.
func (w *workerState) ready(context.Context) error {
	if !w.started.Load() {
		return errors.New("workers not started")
	}
	if p := w.pingErr.Load(); p != nil && *p != nil {
		return errors.New("workers cannot reach redis")
	}
	return nil
}

// newApp builds every client and stage; nothing runs until run.
func newApp(st settings, cfg *config, log *slog.Logger) (*app, error) {
	a := &app{st: st, cfg: cfg, log: log}
	if err := a.openStore(); err != nil {
		return nil, err
	}
	keys, err := intake.NewKeyring(st.Keys, st.HashKey)
	if err != nil {
		a.close()
		return nil, err
	}
	rules, err := cfg.rules()
	if err != nil {
		a.close()
		return nil, err
	}
	router, err := cfg.router()
	if err != nil {
		a.close()
		return nil, err
	}
	clusters := triage.NewClusters(a.rdb, 72*time.Hour)
	triager := triage.NewTriager(rules, clusters, router)
	a.client = asynq.NewClient(a.aopt)
	a.closers = append(a.closers, a.client.Close)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	countTip, err := tipsReceived(reg)
	if err != nil {
		a.close()
		return nil, err
	}
	insp := asynq.NewInspector(a.aopt)
	a.closers = append(a.closers, insp.Close)
	reg.MustRegister(newQueueCollector(insp, log))

	store := intake.NewStore(a.rdb, keys)
	queue := triage.NewQueue(a.client, triager).Counted(countTip)
	a.intake = intake.New(store, queue, log)

	var sender notify.Phone
	var twilio *notify.Twilio
	if st.TwilioSID != "" {
		if twilio, err = notify.NewTwilio(st.TwilioSID, st.TwilioToken, st.TwilioFrom, st.TwilioAPIURL); err != nil {
			a.close()
			return nil, err
		}
		sender = twilio
	} else {
		sender = notify.NewOutbox(a.rdb, log)
		log.Warn("no Twilio credentials: pages go to the dev outbox on this console, not to phones")
	}
	pageMetrics, err := notify.NewMetrics(reg)
	if err != nil {
		a.close()
		return nil, err
	}
	a.pager = notify.NewPager(notify.Config{
		Redis: a.rdb, Queue: a.client, Phone: sender, Teams: cfg.Teams, PublicURL: st.PublicURL,
		Log: log, Metrics: pageMetrics, ClusterOf: store.ClusterOf,
	})
	a.sms = intake.NewSMS(a.intake, a.client, sender)
	a.handler = triage.NewHandler(store, triager, a.pager, a.client, cfg.orgName, log)
	// Not counted: a swept tip was counted when intake was handed it.
	a.sweeper = triage.NewSweeper(store, triage.NewQueue(a.client, triager), 30*time.Second, log)
	a.retention = intake.NewRetention(store, time.Duration(cfg.retentionDays())*24*time.Hour, log, clusters.Forget)

	accounts := account.NewStore(a.rdb, keys)
	if st.RedisURL == "" {
		// Nobody can add an account to an embedded store from the command
		// line, so a demo admin is made here for trying the dashboard.
		if err := a.demoAdmin(accounts); err != nil {
			a.close()
			return nil, err
		}
	}
	wc := web.Config{
		Intake: a.intake, Orgs: cfg.Orgs, Redis: a.rdb, Keys: keys, RateLimit: st.RateLimit,
		Registry: reg, Log: log, SecureCookies: strings.HasPrefix(st.PublicURL, "https://"),
		Accounts: accounts, Audit: audit.New(a.rdb),
		Clusters: clusters, Messenger: a.sms, Acker: a.pager,
	}
	for _, t := range cfg.Teams {
		wc.Teams = append(wc.Teams, web.Team{ID: t.ID, Name: t.Name})
	}
	if st.wantWorker() {
		wc.Ready = a.workers.ready
	}
	if twilio != nil {
		wc.SMS = &web.SMS{
			Channel: a.sms, Twilio: twilio, AuthToken: st.TwilioToken,
			WebhookURL:   st.PublicURL + "/sms/twilio",
			VoiceURL:     st.PublicURL + notify.VoicePath,
			StatusURL:    st.PublicURL + notify.StatusPath,
			OrgForNumber: cfg.orgForNumber, Reviewers: a.pager,
		}
	}
	// A worker-only process serves only /healthz, /readyz and /metrics:
	// its time-to-page and Twilio figures must be scraped too.
	newWeb := web.New
	if !st.wantWeb() {
		newWeb = web.NewOps
	}
	e, err := newWeb(wc)
	if err != nil {
		a.close()
		return nil, err
	}
	a.web = e
	return a, nil
}

// openStore connects to REDIS_URL (one server, Sentinel or Cluster: see
// redis.go), or starts the embedded in-memory Redis.
func (a *app) openStore() error {
	var target redisTarget
	if a.st.RedisURL == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return fmt.Errorf("embedded store: %w", err)
		}
		a.closers = append(a.closers, func() error { mr.Close(); return nil })
		a.log.Warn("REDIS_URL is unset: using an embedded in-memory store. NOTHING SURVIVES A RESTART: every tip, token and message is lost when this process stops. Set REDIS_URL for real use.")
		target = redisTarget{mode: modeSingle, single: &redis.Options{Addr: mr.Addr()}}
	} else {
		var err error
		if target, err = parseRedisURL(a.st.RedisURL); err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
	}
	a.rdb = target.client()
	a.closers = append(a.closers, a.rdb.Close)
	a.aopt = target.asynqOpt()
	a.log.Info("redis", "mode", target.mode)
	return nil
}

// close releases clients in the reverse of the order they were made.
func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		_ = a.closers[i]()
	}
}

// run serves and works until ctx ends, then shuts down gracefully: the
// listener stops taking reports, requests in hand finish, and workers
// finish their tasks (asynq hands unfinished ones back to the queue).
func (a *app) run(ctx context.Context, ln net.Listener) error {
	defer a.close()
	errc := make(chan error, 2)
	var srv *http.Server
	if ln != nil {
		srv = &http.Server{Handler: a.web, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("web: %w", err)
			}
		}()
		a.log.Info("serving", "addr", ln.Addr().String(), "public_url", a.st.PublicURL)
	}
	var workers []*asynq.Server
	if a.st.wantWorker() {
		mux := asynq.NewServeMux()
		mux.Handle(triage.TypeTip, a.handler)
		mux.HandleFunc(triage.TypeBatch, a.handler.ProcessBatch)
		for _, t := range []string{notify.TypePage, notify.TypeStep, notify.TypeSend, notify.TypeDigest} {
			mux.Handle(t, a.pager)
		}
		mux.Handle(intake.TypeText, a.sms)
		for _, pool := range workerPools() {
			cfg := asynq.Config{
				Queues:            pool.queues,
				Concurrency:       pool.concurrency,
				StrictPriority:    true,
				TaskCheckInterval: taskCheckInterval,
				// Escalation steps wait in asynq's scheduled set; by default it
				// is checked every 5 s, which would add up to that to each step.
				DelayedTaskCheckInterval: time.Second,
				RetryDelayFunc:           notify.RetryDelay,
				ShutdownTimeout:          20 * time.Second,
				Logger:                   asynqLogger{a.log.With("component", "asynq", "pool", pool.name)},
				LogLevel:                 asynq.WarnLevel,
				HealthCheckFunc:          func(err error) { a.workers.pingErr.Store(&err) },
			}
			if pool.batch {
				// Routine tips wait at most a second or two to be batched
				// (asynq's shortest grace period is a second); they are
				// read on the next working day.
				cfg.GroupAggregator = asynq.GroupAggregatorFunc(triage.Aggregate)
				cfg.GroupGracePeriod = time.Second
				cfg.GroupMaxDelay = 2 * time.Second
				cfg.GroupMaxSize = triage.BatchMax
			}
			w := asynq.NewServer(a.aopt, cfg)
			if err := w.Start(mux); err != nil {
				for _, started := range workers {
					started.Shutdown()
				}
				return fmt.Errorf("workers %s: %w", pool.name, err)
			}
			workers = append(workers, w)
		}
		a.workers.started.Store(true)
		go a.sweeper.Run(ctx, 15*time.Second)
		go a.retention.Run(ctx, time.Hour)
		go a.scheduleDigests(ctx, time.Minute)
		a.log.Info("workers started", "queues", "critical > high, and apart normal > low (strict)")
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	a.log.Info("shutting down")
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if serr := srv.Shutdown(sctx); serr != nil && err == nil {
			err = fmt.Errorf("web: shutdown: %w", serr)
		}
	}
	if workers != nil {
		a.workers.started.Store(false)
		// In parallel: each finishes the tasks in hand, within its timeout.
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(w.Shutdown)
		}
		wg.Wait()
	}
	return err
}

// asynqLogger sends asynq's logs to slog. asynq's messages name task IDs
// and errors, never payloads.
type asynqLogger struct{ l *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.l.Debug(fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.l.Info(fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.l.Warn(fmt.Sprint(args...)) }
func (l asynqLogger) Error(args ...any) { l.l.Error(fmt.Sprint(args...)) }
func (l asynqLogger) Fatal(args ...any) { l.l.Error(fmt.Sprint(args...)); os.Exit(1) }

// scheduleDigests queues each team's next digest of routine tips, now and
// then: every worker does it, and the digest's task ID keeps one per day.
func (a *app) scheduleDigests(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.pager.ScheduleDigests(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("digests not scheduled; will try again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// demoAdmin adds an admin account to the embedded store and prints its
// one-time password: the store and the account are gone when the process
// stops.
func (a *app) demoAdmin(accounts *account.Store) error {
	var teams []string
	for _, t := range a.cfg.Teams {
		teams = append(teams, t.ID)
	}
	_, temp, err := accounts.Add(context.Background(), account.NewReviewer{Login: "demo", Name: "Demo Admin", Role: account.RoleAdmin, Teams: teams})
	if err != nil {
		return fmt.Errorf("demo account: %w", err)
	}
	a.log.Warn("embedded store: a demo dashboard account for trying tipline; sign in at /review with login demo and this one-time password, then enrol an authenticator app",
		"login", "demo", "password", temp)
	return nil
}
