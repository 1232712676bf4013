-- funnel_invitations: one row per invitation of agency :agency whose visit falls in
-- [:from_at, :to_at) (UTC), with what became of it: its office, visit time, status and skip reason,
-- whether it was sent and delivered, the failure class of its failed SMS, how it was answered
-- ('sms' or 'link', invitations.answered_via), whether the number opted out in answer to it (an
-- inbound «لغو»/11 from the same number after its SMS was sent and before
-- it expired; an unsent invitation has none), and the parts and
-- cost of every SMS sent for it (the invitation and any clarifying message).
-- Read by: Store.FunnelInvitations → analytics.BuildFunnel (GET /api/v1/agencies/{id}/funnel),
-- which buckets the rows by office and Tehran day of the visit.
SELECT i.office_id,
       i.visited_at,
       i.status,
       i.skip_reason,
       CAST(CASE WHEN i.sent_at IS NULL THEN 0 ELSE 1 END AS BIGINT),
       CAST(CASE WHEN i.delivered_at IS NULL THEN 0 ELSE 1 END AS BIGINT),
       COALESCE((SELECT MAX(o.error_class) FROM sms_outbox o
                 WHERE o.invitation_id = i.id AND o.state = 'failed'), ''),
       i.answered_via,
       CAST(CASE WHEN EXISTS (SELECT 1 FROM sms_inbound m
                              WHERE m.phone_hash = i.phone_hash AND m.parsed_kind = 'optout'
                                AND m.received_at >= i.sent_at AND m.received_at < i.expires_at)
            THEN 1 ELSE 0 END AS BIGINT),
       CAST(COALESCE((SELECT SUM(o.parts) FROM sms_outbox o
                      WHERE o.invitation_id = i.id AND o.sent_at IS NOT NULL), 0) AS BIGINT),
       CAST(COALESCE((SELECT SUM(o.cost) FROM sms_outbox o
                      WHERE o.invitation_id = i.id AND o.sent_at IS NOT NULL), 0) AS BIGINT)
FROM invitations i
WHERE i.agency_id = @agency
  AND i.visited_at >= @from_at
  AND i.visited_at < @to_at
ORDER BY i.office_id, i.visited_at
