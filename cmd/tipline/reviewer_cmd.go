package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/web/account"
	"github.com/tipline/tipline/web/audit"
)

const reviewerUsage = `usage:
  tipline reviewer add --login LOGIN --name NAME --role reviewer|lead|admin [--teams TEAM,TEAM]
  tipline reviewer list
  tipline reviewer disable LOGIN
  tipline reviewer enable LOGIN
  tipline reviewer reset LOGIN

add and reset print a one-time temporary password; at the next sign-in the
reviewer chooses a password and sets up a code from an authenticator app.
disable and reset end every session of the account at once.`

// cliActor is who the audit log says did what the command line did: the
// operator at the shell is not a reviewer.
const cliActor = "cli"

// reviewerCommand manages reviewer accounts. Each change is recorded in the
// audit log, as the dashboard's own changes are.
func reviewerCommand(args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(reviewerUsage)
	}
	rdb, keys, st, err := commandStore(getenv, "there is no lasting store to keep reviewer accounts in")
	if err != nil {
		return err
	}
	defer rdb.Close()
	accounts, log := account.NewStore(rdb, keys), audit.New(rdb)
	ctx := context.Background()
	record := func(action, detail string) error {
		return log.Record(ctx, audit.Entry{Actor: cliActor, ActorName: "command line", Action: action, Detail: detail})
	}

	switch args[0] {
	case "add":
		cfg, err := loadConfig(st.ConfigPath)
		if err != nil {
			return err
		}
		return reviewerAdd(ctx, args[1:], cfg, accounts, record, stdout)
	case "list":
		if len(args) != 1 {
			return errors.New(reviewerUsage)
		}
		return reviewerList(ctx, accounts, stdout)
	case "disable", "enable", "reset":
		if len(args) != 2 {
			return errors.New(reviewerUsage)
		}
		r, err := accounts.GetByLogin(ctx, args[1])
		if errors.Is(err, account.ErrNotFound) {
			return fmt.Errorf("no reviewer has the login %q", args[1])
		}
		if err != nil {
			return err
		}
		switch args[0] {
		case "disable", "enable":
			if err := accounts.SetDisabled(ctx, r.ID, args[0] == "disable"); err != nil {
				return err
			}
			if err := record("reviewer."+args[0], r.Login); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%sd %s\n", args[0], r.Login)
			return nil
		}
		temp, err := accounts.Reset(ctx, r.ID)
		if err != nil {
			return err
		}
		if err := record("reviewer.reset", r.Login); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "reset %s; every session ended\ntemporary password (shown once): %s\n", r.Login, temp)
		return nil
	}
	return errors.New(reviewerUsage)
}

// reviewerAdd makes an account from flags.
func reviewerAdd(ctx context.Context, args []string, cfg *config, accounts *account.Store,
	record func(action, detail string) error, stdout io.Writer) error {
	fs := flag.NewFlagSet("reviewer add", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	login := fs.String("login", "", "the login typed at sign-in")
	name := fs.String("name", "", "the name shown on timelines and in the audit log")
	role := fs.String("role", string(account.RoleReviewer), "reviewer, lead or admin")
	teams := fs.String("teams", "", "team IDs from the config, comma-separated")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errors.New(reviewerUsage)
	}
	var ts []string
	for t := range strings.SplitSeq(*teams, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !slices.ContainsFunc(cfg.Teams, func(ct notify.Team) bool { return ct.ID == t }) {
			return fmt.Errorf("team %q is not in the config; its teams are %s", t, strings.Join(teamIDs(cfg), ", "))
		}
		ts = append(ts, t)
	}
	r, temp, err := accounts.Add(ctx, account.NewReviewer{Login: *login, Name: *name, Role: account.Role(*role), Teams: ts})
	if err != nil {
		return err
	}
	of := "every team"
	if len(r.Teams) > 0 {
		of = strings.Join(r.Teams, ",")
	}
	if err := record("reviewer.add", fmt.Sprintf("%s as %s of %s", r.Login, r.Role, of)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s (%s of %s)\ntemporary password (shown once): %s\n", r.Login, r.Role, of, temp)
	return nil
}

// reviewerList prints every account as a table.
func reviewerList(ctx context.Context, accounts *account.Store, stdout io.Writer) error {
	rs, err := accounts.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tNAME\tROLE\tTEAMS\tSTATUS\tCREATED")
	for _, r := range rs {
		status := "active"
		if r.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Login, r.Name, r.Role, strings.Join(r.Teams, ","), status, r.CreatedAt.UTC().Format("2006-01-02"))
	}
	return tw.Flush()
}

// teamIDs are the config's team IDs, for an error message.
func teamIDs(cfg *config) []string {
	ids := make([]string, 0, len(cfg.Teams))
	for _, t := range cfg.Teams {
		ids = append(ids, t.ID)
	}
	return ids
}
