package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/tipline/tipline/intake"
)

// settings are the environment variables of DESIGN.md, read and checked
// once, before anything starts. Every setting is declared here with its
// default.
type settings struct {
	Addr       string // TIPLINE_ADDR
	RedisURL   string // REDIS_URL; empty: the embedded in-memory store
	ConfigPath string // TIPLINE_CONFIG; empty: the built-in demo config
	PublicURL  string // TIPLINE_PUBLIC_URL
	Role       string // TIPLINE_ROLE: web, worker or all
	RateLimit  int    // TIPLINE_RATE_LIMIT: reports per client per minute, 0 off
	LogFormat  string // TIPLINE_LOG_FORMAT: text or json

	TwilioSID    string // TWILIO_ACCOUNT_SID
	TwilioToken  string // TWILIO_AUTH_TOKEN
	TwilioFrom   string // TWILIO_FROM
	TwilioAPIURL string // TWILIO_API_URL: another API base, for staging and tests

	Keys    []intake.Key // TIPLINE_KEYS: id:base64,... the first encrypts
	HashKey []byte       // TIPLINE_HASH_KEY: base64; never changes once tips exist

	// EphemeralKeys says the keys were made up at start because the
	// embedded store keeps nothing anyway.
	EphemeralKeys bool
}

// envNames lists every variable, for the _FILE variants and for errors.
var envNames = []string{
	"TIPLINE_ADDR", "REDIS_URL", "TIPLINE_CONFIG", "TIPLINE_PUBLIC_URL", "TIPLINE_ROLE",
	"TIPLINE_RATE_LIMIT", "TIPLINE_LOG_FORMAT", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
	"TWILIO_FROM", "TWILIO_API_URL", "TIPLINE_KEYS", "TIPLINE_HASH_KEY",
}

// loadSettings reads the settings through getenv. Each variable NAME may
// instead be given as NAME_FILE, the path of a file holding the value (a
// Docker or systemd secret); giving both is an error. All problems are
// reported at once, so an admin fixes them in one go.
func loadSettings(getenv func(string) string) (settings, error) {
	var errs []error
	env := map[string]string{}
	for _, n := range envNames {
		v, f := getenv(n), getenv(n+"_FILE")
		switch {
		case v != "" && f != "":
			errs = append(errs, fmt.Errorf("%s and %s_FILE are both set; set one", n, n))
		case f != "":
			b, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_FILE: %w", n, err))
			}
			v = strings.TrimRight(string(b), "\r\n")
		}
		env[n] = v
	}
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	s := settings{
		Addr:         or(env["TIPLINE_ADDR"], ":8080"),
		RedisURL:     env["REDIS_URL"],
		ConfigPath:   env["TIPLINE_CONFIG"],
		Role:         or(env["TIPLINE_ROLE"], "all"),
		LogFormat:    or(env["TIPLINE_LOG_FORMAT"], "text"),
		TwilioSID:    env["TWILIO_ACCOUNT_SID"],
		TwilioToken:  env["TWILIO_AUTH_TOKEN"],
		TwilioFrom:   env["TWILIO_FROM"],
		TwilioAPIURL: env["TWILIO_API_URL"],
	}
	s.PublicURL = strings.TrimSuffix(or(env["TIPLINE_PUBLIC_URL"], "http://localhost"+portOf(s.Addr)), "/")

	switch s.Role {
	case "web", "worker", "all":
	default:
		errs = append(errs, fmt.Errorf("TIPLINE_ROLE is %q; want web, worker or all", s.Role))
	}
	switch s.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("TIPLINE_LOG_FORMAT is %q; want text or json", s.LogFormat))
	}
	s.RateLimit = 10
	if v := env["TIPLINE_RATE_LIMIT"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("TIPLINE_RATE_LIMIT is %q; want a whole number of reports per minute, 0 for no limit", v))
		}
		s.RateLimit = n
	}
	if u, err := url.Parse(s.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("TIPLINE_PUBLIC_URL is %q; want an absolute http(s) URL such as https://tips.example.org", s.PublicURL))
	}
	if s.RedisURL != "" {
		if _, err := parseRedisURL(s.RedisURL); err != nil {
			errs = append(errs, fmt.Errorf("REDIS_URL: %w", err)) // the message names no password
		}
	}
	set := 0
	for _, v := range []string{s.TwilioSID, s.TwilioToken, s.TwilioFrom} {
		if v != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		errs = append(errs, errors.New("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM go together: set all three, or none for the dev outbox"))
	}
	if set == 3 && (!alnum.MatchString(s.TwilioSID) || !alnum.MatchString(s.TwilioToken)) {
		// twilio-go refuses other characters on every request; say so now.
		errs = append(errs, errors.New("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be letters and digits only, as Twilio issues them"))
	}
	if set == 3 && !e164.MatchString(s.TwilioFrom) {
		errs = append(errs, fmt.Errorf("TWILIO_FROM must be a phone number in E.164 form, like +15551230100"))
	}
	if s.TwilioAPIURL != "" {
		if u, err := url.Parse(s.TwilioAPIURL); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("TWILIO_API_URL is %q; want an absolute URL", s.TwilioAPIURL))
		}
	}

	keys, hash := env["TIPLINE_KEYS"], env["TIPLINE_HASH_KEY"]
	switch {
	case keys == "" && hash == "" && s.RedisURL == "":
		s.Keys = []intake.Key{{ID: "ephemeral", Secret: intake.NewKeySecret()}}
		s.HashKey = intake.NewKeySecret()
		s.EphemeralKeys = true
	case keys == "" || hash == "":
		errs = append(errs, errors.New("TIPLINE_KEYS and TIPLINE_HASH_KEY are required with REDIS_URL (tips are encrypted at rest); make them with `tipline keys generate`"))
	default:
		var err error
		if s.Keys, err = parseKeys(keys); err != nil {
			errs = append(errs, err)
		}
		if s.HashKey, err = base64.StdEncoding.DecodeString(hash); err != nil || len(s.HashKey) < intake.KeySize {
			errs = append(errs, fmt.Errorf("TIPLINE_HASH_KEY must be base64 of at least %d bytes", intake.KeySize))
		}
	}
	return s, errors.Join(errs...)
}

// alnum is what Twilio account SIDs and auth tokens are made of.
var alnum = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// parseKeys reads TIPLINE_KEYS: "id:base64,id:base64", newest first.
func parseKeys(v string) ([]intake.Key, error) {
	var keys []intake.Key
	for i, part := range strings.Split(v, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		secret, err := base64.StdEncoding.DecodeString(b64)
		if !ok || id == "" || err != nil || len(secret) != intake.KeySize {
			// Never echo the value: it is a secret.
			return nil, fmt.Errorf("TIPLINE_KEYS: key %d is not id:base64-of-%d-bytes", i+1, intake.KeySize)
		}
		keys = append(keys, intake.Key{ID: id, Secret: secret})
	}
	return keys, nil
}

// portOf returns ":8080" for ":8080", "0.0.0.0:8080" or "localhost:8080".
func portOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[i:]
	}
	return ""
}

// wantWeb and wantWorker say which parts this process runs.
func (s settings) wantWeb() bool    { return s.Role == "web" || s.Role == "all" }
func (s settings) wantWorker() bool { return s.Role == "worker" || s.Role == "all" }
