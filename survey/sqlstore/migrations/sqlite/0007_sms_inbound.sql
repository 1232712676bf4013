-- 0007_sms_inbound: what became of each inbound SMS, and each invitation's answer (sqlite). Keep it
-- in step with migrations/postgres/0007_sms_inbound.sql.

-- An inbound message is stored raw first (0006) and processed after: processed_at is when, and
-- a row without it is still to process (the processing loop picks it up, also after a crash).
-- outcome is what processing did (scored, late, no_invitation, opted_out, resubscribed,
-- clarification_queued, ambiguous, answered_before, comment, rejected, unknown_sender); rating is
-- the 1–5 it scored (0 when none); comment the text kept for staff; response_id the response it
-- became (derived from the row, so processing twice stores one response). line is the number it
-- was sent to, when the gateway says.
ALTER TABLE sms_inbound ADD COLUMN line TEXT NOT NULL DEFAULT '';
ALTER TABLE sms_inbound ADD COLUMN processed_at TIMESTAMP;
ALTER TABLE sms_inbound ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE sms_inbound ADD COLUMN rating INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sms_inbound ADD COLUMN comment TEXT NOT NULL DEFAULT '';
ALTER TABLE sms_inbound ADD COLUMN response_id TEXT NOT NULL DEFAULT '';
CREATE INDEX sms_inbound_unprocessed_idx ON sms_inbound (processed_at, id);

-- answered_at / answered_via: the invitation's one counted answer (by SMS here; the funnel reads
-- link answers from weblink_uses too). clarified_at: the one clarifying SMS an ambiguous reply
-- earned — never a second.
ALTER TABLE invitations ADD COLUMN answered_at TIMESTAMP;
ALTER TABLE invitations ADD COLUMN answered_via TEXT NOT NULL DEFAULT '';
ALTER TABLE invitations ADD COLUMN clarified_at TIMESTAMP;
