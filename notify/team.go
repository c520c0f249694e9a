package notify

// Reviewer is a member of a team who can be paged.
type Reviewer struct {
	Name  string `yaml:"name"`
	Phone string `yaml:"phone"` // E.164, e.g. +15551230100
}

// Team is a group of reviewers that tips are routed to, with the reviewers
// on call for it in the order they are paged.
type Team struct {
	ID     string     `yaml:"id"`
	Name   string     `yaml:"name"`
	OnCall []Reviewer `yaml:"oncall"`
}
