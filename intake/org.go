package intake

// Org is an organisation reports can name: a school, a workplace, a
// community.
type Org struct {
	ID   string `json:"id" yaml:"id"`
	Name string `json:"name" yaml:"name"`
	// SMSNumber is the tip line number texts to this organisation arrive
	// on, when it has its own; texts to other numbers go to the default team.
	SMSNumber string `json:"-" yaml:"sms_number,omitempty"`
}

// FindOrg returns the organisation with this ID among orgs.
func FindOrg(orgs []Org, id string) (Org, bool) {
	for _, o := range orgs {
		if o.ID == id {
			return o, true
		}
	}
	return Org{}, false
}

// Category is a kind of concern a reporter can choose, with a line that
// helps them choose.
type Category struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// CategoryOther is the category of a report that names none.
const CategoryOther = "other"

// Categories are the kinds of concern a report can name, in the order the
// form shows them.
var Categories = []Category{
	{"threat", "Threat of violence", "Someone said or posted they will hurt people."},
	{"weapon", "Weapon", "Someone has, or is bringing, a weapon."},
	{"self_harm", "Self-harm or suicide", "Someone may hurt or kill themselves."},
	{"bullying", "Bullying or cyberbullying", "Someone is picked on, in person or online."},
	{"harassment", "Harassment or stalking", "Someone is followed, watched or threatened."},
	{"abuse", "Abuse", "Someone is hurt or neglected by a person who should care for them."},
	{"drugs", "Drugs or alcohol", "Drugs or alcohol are used, sold or brought in."},
	{"staff_misconduct", "Staff misconduct", "An adult in charge is acting wrongly with someone in their care."},
	{"extremism", "Extremism", "Someone is drawn to hateful or violent ideas."},
	{CategoryOther, "Something else", "Anything else that worries you."},
}

// KnownCategory tells whether id names one of the Categories.
func KnownCategory(id string) bool {
	for _, c := range Categories {
		if c.ID == id {
			return true
		}
	}
	return false
}
