// Command tipline runs the tip line: `tipline serve` for the site, the API,
// the SMS webhook and the workers; `tipline triage -f FILE` to try triage
// rules and routes on sample reports; `tipline keys generate` for new keys;
// `tipline healthcheck` for container health checks.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"
	// Time zones for routes' working hours, also in images that ship no
	// zoneinfo (distroless static).
	_ "time/tzdata"

	"github.com/redis/go-redis/v9"
	"github.com/tipline/tipline/intake"
)

const usage = `usage: tipline <command> [flags]

commands:
  serve            run the site, API, SMS webhook and workers (per TIPLINE_ROLE)
  triage -f FILE   triage JSON-lines reports from FILE (- for stdin), print one result per line
  keys generate    print new TIPLINE_KEYS and TIPLINE_HASH_KEY values
  keys rotate      re-seal every stored value with the first key of TIPLINE_KEYS
  sms block HASH   stop taking texts from the phone with this keyed hash (from the flood log)
  sms unblock HASH take texts from it again
  healthcheck      exit 0 when the local server's /healthz answers 200
  config check [-f FILE]  check a config (default TIPLINE_CONFIG) and print its routes, rotations and escalations
  reviewer add --login L --name N --role reviewer|lead|admin --teams a,b
                   create a dashboard account; prints a one-time password
  reviewer list|disable LOGIN|enable LOGIN|reset LOGIN
                   list accounts, stop or restore one, or make it set up again

Settings come from the environment; see README.md.
`

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "tipline:", err)
		os.Exit(1)
	}
}

// run dispatches a command line. It takes its streams and environment as
// arguments so that tests run it as the binary would be run.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "serve":
		return serve(getenv, stderr)
	case "triage":
		return triageCommand(args[1:], getenv, stdin, stdout)
	case "keys":
		return keysCommand(args[1:], getenv, stdout)
	case "sms":
		return smsCommand(args[1:], getenv, stdout)
	case "reviewer":
		return reviewerCommand(args[1:], getenv, stdout)
	case "healthcheck":
		return healthcheck(getenv)
	case "config":
		return configCommand(args[1:], getenv, stdout, time.Now())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// serve runs `tipline serve` until SIGINT or SIGTERM.
func serve(getenv func(string) string, stderr io.Writer) error {
	st, err := loadSettings(getenv)
	if err != nil {
		return fmt.Errorf("settings:\n%w", err)
	}
	log := newLogger(st.LogFormat, stderr)
	// go-redis reports dial failures and failovers through a logger of its
	// own, one per process; without this they are plain text amid JSON.
	redis.SetLogger(redisLogger{log.With("component", "redis")})
	cfg, err := loadConfig(st.ConfigPath)
	if err != nil {
		return err
	}
	if st.ConfigPath == "" {
		log.Warn("TIPLINE_CONFIG is unset: using the built-in demo config (demo schools, demo phone numbers)")
	}
	if st.EphemeralKeys {
		log.Warn("TIPLINE_KEYS unset: encrypting with throwaway keys made at start-up")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := newApp(st, cfg, log)
	if err != nil {
		return err
	}
	// Every role listens: a worker-only process for its health and metrics.
	ln, err := net.Listen("tcp", st.Addr)
	if err != nil {
		a.close()
		return fmt.Errorf("listen: %w", err)
	}
	return a.run(ctx, ln)
}

// newLogger builds the one logger every part writes through.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// redisLogger sends go-redis's notices to slog. They name Redis
// addresses and errors, never a report.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, fmt.Sprintf(format, v...))
}

// healthcheck asks the local server's /healthz, for container health checks
// in images that have no shell or curl.
func healthcheck(getenv func(string) string) error {
	addr := getenv("TIPLINE_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("TIPLINE_ADDR: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(host, port) + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: %s", resp.Status)
	}
	return nil
}

// phoneHashPattern is a keyed phone hash as the flood log prints it.
var phoneHashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// smsCommand blocks or unblocks a phone by its keyed hash: an admin stops
// a flood without ever seeing the number.
func smsCommand(args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 2 || (args[0] != "block" && args[0] != "unblock") || !phoneHashPattern.MatchString(args[1]) {
		return errors.New("usage: tipline sms block|unblock PHONE_HASH (64 hex digits, as the flood log prints it)")
	}
	rdb, keys, _, err := commandStore(getenv, "there is no lasting store to block a number in")
	if err != nil {
		return err
	}
	defer rdb.Close()
	sms := intake.NewSMS(intake.New(intake.NewStore(rdb, keys), nil, slog.New(slog.DiscardHandler)), nil, nil)
	ctx := context.Background()
	if args[0] == "block" {
		err = sms.Block(ctx, args[1])
	} else {
		err = sms.Unblock(ctx, args[1])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%sed\n", args[0])
	return nil
}
