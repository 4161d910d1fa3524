-- The review queue of findings (issue #7): a scan raises each finding once (fingerprint: rule, subject and
-- the period scanned), a reviewer acknowledges or resolves it with a comment (each review is also a
-- governance event), and each day's scan leaves a digest.
ALTER TABLE findings
  ADD COLUMN fingerprint text,
  ADD COLUMN reviewed_by text COLLATE "C",
  ADD COLUMN reviewed_at timestamptz,
  ADD COLUMN review_comment text;
CREATE UNIQUE INDEX findings_fingerprint ON findings (fingerprint) WHERE fingerprint IS NOT NULL;

CREATE TABLE analysis_digests (
  day date PRIMARY KEY,
  created_at timestamptz NOT NULL,
  summary jsonb NOT NULL
);
