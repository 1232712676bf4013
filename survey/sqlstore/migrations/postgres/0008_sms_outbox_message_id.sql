-- 0008_sms_outbox_message_id: find an outbox message by the gateway's message id (postgres). Keep it
-- in step with the other dialect's 0008. A delivery-status push and the poller look messages up
-- by message_id; without an index each push reads the whole outbox. Messages not yet sent have
-- message_id '', left out of the index.
CREATE INDEX sms_outbox_message_id_idx ON sms_outbox (message_id) WHERE message_id <> '';
