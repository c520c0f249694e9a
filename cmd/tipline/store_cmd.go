package main

import (
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"github.com/tipline/tipline/intake"
)

// commandStore opens what an admin command works on: the Redis at
// REDIS_URL (any of its forms) and the keyring. without says what the
// command could not do on the embedded store, which a command run beside
// a server never shares. Close the client when done.
func commandStore(getenv func(string) string, without string) (redis.UniversalClient, *intake.Keyring, settings, error) {
	st, err := loadSettings(getenv)
	if err != nil {
		return nil, nil, st, fmt.Errorf("settings:\n%w", err)
	}
	if st.RedisURL == "" {
		return nil, nil, st, errors.New("REDIS_URL is unset: " + without)
	}
	target, err := parseRedisURL(st.RedisURL)
	if err != nil {
		return nil, nil, st, fmt.Errorf("REDIS_URL: %w", err)
	}
	keys, err := intake.NewKeyring(st.Keys, st.HashKey)
	if err != nil {
		return nil, nil, st, err
	}
	return target.client(), keys, st, nil
}
