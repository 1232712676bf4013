package survey

// DigestRecipient is a person who gets the weekly and monthly digests by SMS: an enabled staff
// account with an alert number. Role and AgencyID decide which digest (an agency role its
// agency's, a province role the province summary); the number is only its keyed hash, which
// the outbox sends to.
type DigestRecipient struct {
	UserID    ID
	Name      string
	Role      Role
	AgencyID  ID
	PhoneHash string
}

// Principal is the recipient as the digest builder checks tenancy: the person's own role.
func (r DigestRecipient) Principal() Principal {
	return Principal{Role: r.Role, AgencyID: r.AgencyID, UserID: r.UserID, Name: r.Name}
}
