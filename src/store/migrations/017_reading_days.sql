-- Bulk reading judged at the read (issue 20): each person's non-public reads per Japan day, counted from the
-- access log (firewall/reading-tally.ts), so the running baseline survives a restart and is one count for
-- every server process. Derived data: the access log stays the record; these rows can be rebuilt from it.
CREATE TABLE reading_days (
  person_id text COLLATE "C" NOT NULL,
  day date NOT NULL,
  -- Records served with a non-public field shown, under any purpose.
  reads integer NOT NULL DEFAULT 0 CHECK (reads >= 0),
  -- How far over the person's threshold the day has been raised (domain/reading-baseline.ts#bulkLevel): a
  -- finding is raised (or updated) once per level, whichever process counts the reads.
  raised_level smallint NOT NULL DEFAULT 0 CHECK (raised_level >= 0),
  PRIMARY KEY (person_id, day)
);
CREATE INDEX reading_days_day ON reading_days (day);

-- How far the access log has been counted: one row, locked by the process that counts, so each event is
-- counted once however many processes run.
CREATE TABLE reading_tally (
  id smallint PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL CHECK (seq >= 0),
  counted_at timestamptz NOT NULL
);
