package survey

import "time"

// Draft is the working copy of a survey that staff edit. Unlike a Version it may be incomplete
// or invalid while it is being written: saving never refuses a draft for its content, only
// publishing does (Version.Check and the SMS checks), and a published version is never edited —
// the next publish copies the draft into a new version.
type Draft struct {
	SurveyID  ID           `json:"survey_id"`
	AgencyID  ID           `json:"agency_id"`
	Title     string       `json:"title"`
	Questions []Question   `json:"questions"`
	SMS       *SMSSettings `json:"sms,omitempty"`
	// UpdatedAt and UpdatedBy say who last saved the draft (zero: never saved; the draft was
	// made from the survey's active version or is empty).
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// Version returns the version publishing the draft would make (without its number and date).
func (d *Draft) Version() Version {
	return Version{SurveyID: d.SurveyID, AgencyID: d.AgencyID, Title: d.Title, Questions: d.Questions, SMS: d.SMS}
}

// Assignment says which survey an agency's office and channel use. OfficeID 0 stands for every
// office of the agency and an empty Channel for every channel; when several assignments match a
// response's office and channel the most specific wins (office and channel, then office, then
// channel, then the agency-wide one), and without any the agency's last published survey is used.
type Assignment struct {
	AgencyID ID      `json:"agency_id"`
	OfficeID ID      `json:"office_id"`
	Channel  Channel `json:"channel"`
	SurveyID ID      `json:"survey_id"`
}
