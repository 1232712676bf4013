package survey

import "time"

// AuditEntry is one change someone made, as the audit log keeps it: who (a person's account or a
// token, and the name either had then), what (an action on an entity), when, the agency it
// concerns (for tenancy of the log itself), and the entity before and after as JSON. Secrets —
// password hashes, tokens — never enter Before or After.
type AuditEntry struct {
	ID           ID        `json:"id"`
	At           time.Time `json:"at"`
	ActorUserID  ID        `json:"actor_user_id,omitempty"`
	ActorTokenID ID        `json:"actor_token_id,omitempty"`
	ActorName    string    `json:"actor_name"`
	Action       string    `json:"action"`
	Entity       string    `json:"entity"`
	EntityID     ID        `json:"entity_id,omitempty"`
	AgencyID     ID        `json:"agency_id,omitempty"`
	Before       string    `json:"before,omitempty"`
	After        string    `json:"after,omitempty"`
}

// AuditQuery selects audit entries: AgencyID 0 means every agency (a province admin's view);
// Limit 0 means a default page; entries come newest first, BeforeID pages back.
type AuditQuery struct {
	AgencyID ID
	Entity   string
	BeforeID ID
	Limit    int
}

// TokenInfo is what staff see of an API token: never the token or its hash.
type TokenInfo struct {
	ID         ID         `json:"id"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	AgencyID   ID         `json:"agency_id,omitempty"`
	OfficeID   ID         `json:"office_id,omitempty"`
	Channel    Channel    `json:"channel,omitempty"`
	Bootstrap  bool       `json:"bootstrap,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}
