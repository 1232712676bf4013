-- comments: an agency's stored responses (and office's, when :office is not 0) that may hold a
-- written answer, newest first, submitted before :before (a UTC instant; the
-- store passes the year 3000 for no bound), at most :limit rows. The answers are JSON; Store.Comments picks the text
-- answers out of them and joins their moderation (comment_moderation) in Go.
-- Read by: Store.Comments → analytics.Comments.
SELECT id, office_id, channel, submitted_at, answers
FROM responses
WHERE agency_id = @agency
  AND (CAST(@office AS BIGINT) = 0 OR office_id = @office)
  AND submitted_at < @before
  AND answers LIKE '%"x":%'
ORDER BY submitted_at DESC, id DESC
LIMIT @limit
