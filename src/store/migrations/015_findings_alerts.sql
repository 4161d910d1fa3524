-- One open finding per rule and subject, and alerts that leave gridwall (issue 20).
--
-- Findings repeated (one per refused attempt, plus the scan's aggregate) and went stale (a later scan's count
-- never reached the queue). Now a finding is folded into the open one for the same rule and subject: the
-- occurrences counted, first and last seen kept, the latest evidence in `evidence` and the ten before it in
-- `earlier_evidence` (newest first), the severity raised if the new one is higher. A resolved finding is never
-- reopened: the next one starts anew. `subject_key` names the subject: `person:<id>` (a user ID resolved to its
-- person), `user:<id>` (an account without a person), `terminal:<id>`; null when nothing names one (never folded).
ALTER TABLE findings
  ADD COLUMN subject_key text COLLATE "C",
  ADD COLUMN occurrences integer NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
  ADD COLUMN first_seen_at timestamptz,
  ADD COLUMN last_seen_at timestamptz,
  ADD COLUMN earlier_evidence jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN merged_into bigint REFERENCES findings (id);

UPDATE findings SET first_seen_at = occurred_at, last_seen_at = occurred_at;
ALTER TABLE findings ALTER COLUMN first_seen_at SET NOT NULL, ALTER COLUMN last_seen_at SET NOT NULL;
-- A finding written without them (a bulk load, the demo's history) was first and last seen when it occurred.
CREATE FUNCTION findings_seen_default() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.first_seen_at := COALESCE(NEW.first_seen_at, NEW.occurred_at);
  NEW.last_seen_at := COALESCE(NEW.last_seen_at, NEW.occurred_at);
  RETURN NEW;
END $$;
CREATE TRIGGER findings_seen_default BEFORE INSERT ON findings FOR EACH ROW EXECUTE FUNCTION findings_seen_default();

UPDATE findings f
   SET subject_key = COALESCE(
         'person:' || f.subject_person_id,
         'person:' || (SELECT a.person_id FROM accounts a WHERE a.user_id = f.subject_user_id),
         'user:' || f.subject_user_id,
         CASE WHEN f.evidence ->> 'subject' LIKE 'terminal:%' THEN f.evidence ->> 'subject' END,
         'terminal:' || (f.evidence ->> 'terminalId'));

-- Open duplicates from before: the oldest of each rule and subject keeps them all (counts, first and last
-- seen, the highest severity, the latest evidence and summary; open if any was open), the others are resolved
-- as merged into it, so that their ids still lead somewhere.
UPDATE findings f
   SET occurrences = g.occurrences,
       first_seen_at = g.first_seen,
       last_seen_at = g.last_seen,
       detected_at = g.detected,
       severity = g.severity,
       summary = g.summary,
       evidence = g.evidence,
       earlier_evidence = g.earlier,
       status = g.status
  FROM (SELECT min(id) AS keep,
               sum(occurrences)::int AS occurrences,
               min(first_seen_at) AS first_seen,
               max(last_seen_at) AS last_seen,
               max(detected_at) AS detected,
               (ARRAY['low', 'medium', 'high'])[max(CASE severity WHEN 'low' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END)] AS severity,
               (array_agg(summary ORDER BY last_seen_at DESC, id DESC))[1] AS summary,
               (array_agg(evidence ORDER BY last_seen_at DESC, id DESC))[1] AS evidence,
               COALESCE(to_jsonb((array_agg(jsonb_build_object('seenAt', last_seen_at, 'evidence', evidence) ORDER BY last_seen_at DESC, id DESC))[2:11]), '[]') AS earlier,
               CASE WHEN bool_or(status = 'open') THEN 'open' ELSE 'acknowledged' END AS status
          FROM findings
         WHERE status <> 'resolved' AND subject_key IS NOT NULL
         GROUP BY rule, subject_key
        HAVING count(*) > 1) g
 WHERE f.id = g.keep;

UPDATE findings f
   SET status = 'resolved',
       merged_into = g.keep,
       reviewed_by = 'gridwall',
       reviewed_at = now(),
       review_comment = 'migration 015: merged into finding ' || g.keep || ' (one open finding per rule and subject)'
  FROM (SELECT id, min(id) OVER (PARTITION BY rule, subject_key) AS keep
          FROM findings
         WHERE status <> 'resolved' AND subject_key IS NOT NULL) g
 WHERE f.id = g.id AND g.keep <> f.id;

CREATE UNIQUE INDEX findings_one_open ON findings (rule, subject_key) WHERE status <> 'resolved' AND subject_key IS NOT NULL;

-- The periods a scan has queued (rule, subject, period scanned), each with the finding it went into: scanning a
-- period again refreshes that finding while it is open, and adds nothing once it is resolved.
CREATE TABLE finding_periods (
  fingerprint text COLLATE "C" PRIMARY KEY,
  finding_id bigint NOT NULL REFERENCES findings (id)
);
INSERT INTO finding_periods (fingerprint, finding_id)
SELECT fingerprint, COALESCE(merged_into, id) FROM findings WHERE fingerprint IS NOT NULL;
DROP INDEX findings_fingerprint;
ALTER TABLE findings DROP COLUMN fingerprint;

-- Alerts: written in the same transaction as the finding (or the digest) they are about, sent afterwards by
-- the dispatcher, so that a slow or failing receiver never holds up or fails the read that raised it. The
-- payload carries no customer data (analysis/alerts.ts#findingAlert). Each channel's delivery is recorded.
CREATE TABLE alert_outbox (
  id bigserial PRIMARY KEY,
  created_at timestamptz NOT NULL,
  kind text NOT NULL CHECK (kind IN ('finding', 'digest')),
  finding_id bigint REFERENCES findings (id),
  digest_day date,
  payload jsonb NOT NULL,
  done_at timestamptz,
  CHECK ((kind = 'finding') = (finding_id IS NOT NULL)),
  CHECK ((kind = 'digest') = (digest_day IS NOT NULL))
);
CREATE INDEX alert_outbox_pending ON alert_outbox (id) WHERE done_at IS NULL;

CREATE TABLE alert_deliveries (
  outbox_id bigint NOT NULL REFERENCES alert_outbox (id),
  channel text NOT NULL CHECK (channel IN ('syslog', 'webhook', 'email')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  delivered_at timestamptz,
  gave_up_at timestamptz,
  last_error text,
  PRIMARY KEY (outbox_id, channel)
);
