// Command floor is the least a report intake can do, for measuring
// tipline's against: POST /api/v1/reports binds the JSON, sanitizes each
// field with bluemonday, stores the report and a token in one Redis
// pipeline, enqueues one asynq task, and answers 201 with the token. No
// validation, encryption, normalisation, metrics, rate limit, headers or
// logs. `make bench` runs tipline's intake beside it (BenchmarkIntakeVsFloor).
//
// Settings: FLOOR_ADDR (default 127.0.0.1:8090) and REDIS_URL.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/microcosm-cc/bluemonday"
	"github.com/redis/go-redis/v9"
)

type report struct {
	Org      string `json:"org"`
	Category string `json:"category"`
	Body     string `json:"body"`
	Location string `json:"location"`
	When     string `json:"when"`
	Subject  string `json:"subject"`
	Danger   bool   `json:"danger"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := os.Getenv("FLOOR_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8090"
	}
	opt, err := redis.ParseURL(os.Getenv("REDIS_URL"))
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	queue := asynq.NewClient(asynq.RedisClientOpt{Addr: opt.Addr, Password: opt.Password, DB: opt.DB})
	defer queue.Close()
	policy := bluemonday.StrictPolicy()

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/api/v1/reports", func(c echo.Context) error {
		var r report
		if err := c.Bind(&r); err != nil {
			return c.JSON(http.StatusBadRequest, map[string]string{"error": "bad request"})
		}
		id, token := random(), random()
		ctx := c.Request().Context()
		_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, "floor:tip:{"+id+"}", "org", policy.Sanitize(r.Org), "category", policy.Sanitize(r.Category),
				"body", policy.Sanitize(r.Body), "location", policy.Sanitize(r.Location), "when", policy.Sanitize(r.When),
				"subject", policy.Sanitize(r.Subject), "danger", r.Danger, "received_at", time.Now().UTC().Format(time.RFC3339Nano))
			p.Set(ctx, "floor:token:"+token, id, 0)
			return nil
		})
		if err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "not saved"})
		}
		if _, err := queue.EnqueueContext(ctx, asynq.NewTask("floor:tip", []byte(id)), asynq.Queue("floor")); err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "not queued"})
		}
		return c.JSON(http.StatusCreated, map[string]string{"token": token, "status": "received"})
	})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: addr, Handler: e}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// random is 80 bits in base32, like tipline's tokens and tip IDs.
func random() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)
}
