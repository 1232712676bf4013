-- 0009_sms_dialogue: SMS follow-up conversations and one answer per invitation (sqlite). Keep it
-- in step with migrations/postgres/0009_sms_dialogue.sql.

-- sms_dialogues holds the open follow-up conversation of a number (channels/sms dialogue) when no
-- Redis is configured; with Redis the same state lives there under a TTL. state is the
-- conversation as JSON (survey.SMSDialogue); a row past expires_at is dead and swept.
CREATE TABLE sms_dialogues (
    phone_hash  TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
CREATE INDEX sms_dialogues_expiry_idx ON sms_dialogues (expires_at);

-- dialogue: the conversation as it stood when the rating opened it (JSON), kept on the rating's
-- own message. The rating it holds was acknowledged to the citizen (a follow-up SMS went out), so
-- it must outlive Redis: if the live state is lost, the rating alone is submitted from here when
-- the conversation expires. A message waiting so has outcome 'awaiting_follow_up'.
ALTER TABLE sms_inbound ADD COLUMN dialogue TEXT NOT NULL DEFAULT '';
CREATE INDEX sms_inbound_outcome_idx ON sms_inbound (outcome, received_at) WHERE outcome = 'awaiting_follow_up';

-- lease_until: a replica processing a message holds it until then, so two replicas never act on
-- one message at once (a crashed replica's lease runs out and another takes the message over).
ALTER TABLE sms_inbound ADD COLUMN lease_until TIMESTAMP;

-- answer_claim: which answer an invitation's one counted answer is — 'sms:<inbound id>' or
-- 'link:<response id>' — set once, before the response is submitted, so an SMS reply and a link
-- answer (or two replies on two replicas) can never both count for one visit.
ALTER TABLE invitations ADD COLUMN answer_claim TEXT;
