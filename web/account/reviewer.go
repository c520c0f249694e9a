// Package account keeps reviewer accounts, their sign-in secrets and their
// sessions in Redis. Passwords are argon2id hashes, TOTP secrets are sealed
// with the keyring, and session IDs are kept only as keyed hashes, so a copy
// of Redis lets no one sign in.
package account

import (
	"slices"
	"time"
)

// Role is what a reviewer may do beyond reading their teams' tips.
type Role string

// The roles, from least to most.
const (
	RoleReviewer Role = "reviewer" // their teams' tips
	RoleLead     Role = "lead"     // plus their teams' figures and settings
	RoleAdmin    Role = "admin"    // everything: every team, accounts, the audit log
)

// Valid tells whether r is one of the roles.
func (r Role) Valid() bool {
	return r == RoleReviewer || r == RoleLead || r == RoleAdmin
}

// Reviewer is one person who signs in to the dashboard.
type Reviewer struct {
	ID        string // stable, random
	Login     string
	Name      string   // shown on timelines and in the audit log
	Role      Role     // reviewer, lead or admin
	Teams     []string // team IDs from the config
	Disabled  bool
	CreatedAt time.Time
}

// Sees tells whether the reviewer may see a tip routed to teams: an admin
// sees every tip, anyone else only a tip that shares one of their teams.
func (r *Reviewer) Sees(teams []string) bool {
	if r == nil || r.Disabled {
		return false
	}
	if r.Role == RoleAdmin {
		return true
	}
	for _, t := range teams {
		if slices.Contains(r.Teams, t) {
			return true
		}
	}
	return false
}

// Leads tells whether the reviewer may see a team's figures and change its
// settings: an admin, or a lead who is a member of that team.
func (r *Reviewer) Leads(team string) bool {
	if r == nil || r.Disabled {
		return false
	}
	return r.Role == RoleAdmin || (r.Role == RoleLead && slices.Contains(r.Teams, team))
}
