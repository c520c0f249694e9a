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
)

// taskCheckInterval is how long an idle worker waits before asking Redis for
// work again. asynq's default of one second is too slow to page: this keeps
// the median from a critical tip's 201 to its page request in tens of
// milliseconds, for a few cheap Redis calls a second.
const taskCheckInterval = 20 * time.Millisecond

// queues are weighted for strict priority: a worker takes from "critical"
// until it is empty, then "high", and so on, so no flood of routine tips
// delays a life-safety one.
var queues = map[string]int{
	string(triage.Critical): 8,
	string(triage.High):     4,
	string(triage.Normal):   2,
	string(triage.Low):      1,
}

// app is one tipline process: the clients it holds and the parts its role runs.
type app struct {
	st   settings
	cfg  *config
	log  *slog.Logger
	rdb  *redis.Client
	aopt asynq.RedisClientOpt

	client  *asynq.Client
	intake  *intake.Intake
	handler *triage.Handler
	sweeper *triage.Sweeper
	pager   *notify.Pager
	sms     *intake.SMS
	web     http.Handler

	closers []func() error
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
	triager := triage.NewTriager(rules, triage.NewClusters(a.rdb, 72*time.Hour), router)
	a.client = asynq.NewClient(a.aopt)
	a.closers = append(a.closers, a.client.Close)

	store := intake.NewStore(a.rdb, keys)
	queue := triage.NewQueue(a.client, triager)
	a.intake = intake.New(store, queue, log)

	var sender notify.Sender
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
	a.pager = notify.NewPager(a.rdb, a.client, sender, cfg.Teams, st.PublicURL, log)
	a.sms = intake.NewSMS(a.intake, a.client, sender)
	a.handler = triage.NewHandler(store, triager, a.pager, cfg.orgName, log)
	a.sweeper = triage.NewSweeper(store, queue, 30*time.Second, log)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	wc := web.Config{
		Intake: a.intake, Orgs: cfg.Orgs, Redis: a.rdb, Keys: keys, RateLimit: st.RateLimit,
		Registry: reg, Log: log, SecureCookies: strings.HasPrefix(st.PublicURL, "https://"),
	}
	if twilio != nil {
		wc.SMS = &web.SMS{
			Channel: a.sms, Twilio: twilio, AuthToken: st.TwilioToken,
			WebhookURL:   st.PublicURL + "/sms/twilio",
			OrgForNumber: cfg.orgForNumber, IsReviewer: cfg.isReviewer,
		}
	}
	e, err := web.New(wc)
	if err != nil {
		a.close()
		return nil, err
	}
	a.web = e
	return a, nil
}

// openStore connects to REDIS_URL, or starts the embedded in-memory Redis.
func (a *app) openStore() error {
	var opt *redis.Options
	if a.st.RedisURL == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return fmt.Errorf("embedded store: %w", err)
		}
		a.closers = append(a.closers, func() error { mr.Close(); return nil })
		a.log.Warn("REDIS_URL is unset: using an embedded in-memory store. NOTHING SURVIVES A RESTART: every tip, token and message is lost when this process stops. Set REDIS_URL for real use.")
		opt = &redis.Options{Addr: mr.Addr()}
	} else {
		var err error
		if opt, err = redis.ParseURL(a.st.RedisURL); err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
	}
	a.rdb = redis.NewClient(opt)
	a.closers = append(a.closers, a.rdb.Close)
	a.aopt = asynq.RedisClientOpt{
		Network: opt.Network, Addr: opt.Addr, Username: opt.Username, Password: opt.Password,
		DB: opt.DB, TLSConfig: opt.TLSConfig,
	}
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
	if a.st.wantWeb() {
		srv = &http.Server{Handler: a.web, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("web: %w", err)
			}
		}()
		a.log.Info("serving", "addr", ln.Addr().String(), "public_url", a.st.PublicURL)
	}
	var workers *asynq.Server
	if a.st.wantWorker() {
		workers = asynq.NewServer(a.aopt, asynq.Config{
			Queues:            queues,
			StrictPriority:    true,
			TaskCheckInterval: taskCheckInterval,
			ShutdownTimeout:   20 * time.Second,
			Logger:            asynqLogger{a.log.With("component", "asynq")},
			LogLevel:          asynq.WarnLevel,
		})
		mux := asynq.NewServeMux()
		mux.Handle(triage.TypeTip, a.handler)
		mux.Handle(notify.TypePage, a.pager)
		mux.Handle(intake.TypeText, a.sms)
		if err := workers.Start(mux); err != nil {
			return fmt.Errorf("workers: %w", err)
		}
		go a.sweeper.Run(ctx, 15*time.Second)
		a.log.Info("workers started", "queues", "critical > high > normal > low (strict)")
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
		workers.Shutdown()
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
