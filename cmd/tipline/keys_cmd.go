package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tipline/tipline/intake"
)

// keysCommand is `tipline keys generate` and `tipline keys rotate`.
func keysCommand(args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: tipline keys generate|rotate")
	}
	switch args[0] {
	case "generate":
		id := "k" + time.Now().UTC().Format("20060102")
		fmt.Fprintf(stdout, "TIPLINE_KEYS=%s:%s\nTIPLINE_HASH_KEY=%s\n", id,
			base64.StdEncoding.EncodeToString(intake.NewKeySecret()), base64.StdEncoding.EncodeToString(intake.NewKeySecret()))
		return nil
	case "rotate":
		return rotateKeys(getenv, stdout)
	}
	return errors.New("usage: tipline keys generate|rotate")
}

// rotateKeys re-seals everything an older key sealed with the first key of
// TIPLINE_KEYS. The way to rotate: put a new key first (`tipline keys
// generate` makes one), restart tipline so new values use it, run this,
// then remove the old key from TIPLINE_KEYS.
func rotateKeys(getenv func(string) string, stdout io.Writer) error {
	rdb, keys, st, err := commandStore(getenv, "the embedded store keeps nothing to rotate")
	if err != nil {
		return err
	}
	defer rdb.Close()
	rot, err := intake.NewStore(rdb, keys).Rotate(context.Background())
	fmt.Fprintf(stdout, "re-sealed %d values with key %s; %d were already sealed with it\n", rot.Resealed, st.Keys[0].ID, rot.Current)
	if err != nil {
		return err
	}
	if len(rot.Unopened) > 0 {
		// Key names hold IDs and keyed hashes only: safe to print.
		return fmt.Errorf("%d values would not open and were left as they were, in keys: %v", len(rot.Unopened), rot.Unopened)
	}
	return nil
}
