// Package intake takes reports in from every channel, validates, normalises
// and sanitizes them, stores them encrypted, and gives the reporter a
// follow-up token. It is the first stage of the pipeline and imports no other
// tipline package but timeline.
package intake

import "time"

// Status is where a tip is in its life. Reporters see it when they check back.
type Status string

// The statuses a tip moves through, in order.
const (
	StatusReceived Status = "received"
	StatusAssigned Status = "assigned"
	StatusInReview Status = "in_review"
	StatusClosed   Status = "closed"
)

// Channel is how a tip arrived.
type Channel string

// The channels tipline takes tips from.
const (
	ChannelWeb Channel = "web"
	ChannelAPI Channel = "api"
	ChannelSMS Channel = "sms"
)

// Tip is one report as stored. Text fields hold sanitized plain text; they
// are encrypted at rest and decrypted only when a Tip is loaded.
type Tip struct {
	ID         string
	ReceivedAt time.Time
	Channel    Channel
	Org        string // organisation ID as the reporter named it; unknown IDs route to the default team
	Category   string
	Danger     bool // the reporter said someone is in danger right now
	Body       string
	Location   string
	When       string
	Subject    string
	Contact    string // how to reach the reporter, only if they chose to give it
	Images     int    // how many images came with the tip; Store.Images returns them
	Status     Status

	// Set by triage.
	Urgency  string
	Rated    string // the category triage rated
	Team     string // the team that owns the tip
	Teams    []string
	Cluster  string
	Reasons  []Reason
	Assigned time.Time
}

// Code is the short reference reviewers see in pages and the dashboard. It
// names the tip without revealing anything about it.
func (t *Tip) Code() string {
	if len(t.ID) < 6 {
		return t.ID
	}
	return t.ID[:6]
}

// Reason is one reason triage gave for its rating, with the words of the
// report that triggered it, so a reviewer can check the pipeline's work.
type Reason struct {
	Rule  string `json:"rule"`
	Text  string `json:"text"`
	Words string `json:"words,omitempty"`
}

// Sender says who wrote a message in a tip's conversation.
type Sender string

// The two sides of the anonymous dialogue.
const (
	FromReporter Sender = "reporter"
	FromReviewer Sender = "reviewer"
)

// Message is one entry of the two-way conversation on a tip.
type Message struct {
	From Sender    `json:"from"`
	Body string    `json:"body"`
	At   time.Time `json:"at"`
}
