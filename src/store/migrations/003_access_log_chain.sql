-- The access log becomes evidence: every event has a sequence number and a SHA-256 link to the one before
-- it, checkpoints of the chain are signed (Ed25519), and the table is partitioned by month (Japan time) so
-- that partitions past the retention period can be archived — exported, verified, detached — never dropped.

-- Events written before the chain existed stay, untouched, under another name.
ALTER TABLE access_log RENAME TO access_log_unchained;
ALTER INDEX access_log_pkey RENAME TO access_log_unchained_pkey;
ALTER INDEX access_log_person_time RENAME TO access_log_unchained_person_time;
ALTER INDEX access_log_time RENAME TO access_log_unchained_time;
ALTER SEQUENCE access_log_id_seq RENAME TO access_log_unchained_id_seq;

CREATE TABLE access_log (
  seq bigint NOT NULL CHECK (seq > 0),
  prev_hash text COLLATE "C" NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash text COLLATE "C" NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  -- Physical insertion order; only the verifier uses it (to page through duplicates of a sequence number).
  id bigserial NOT NULL,
  occurred_at timestamptz NOT NULL,
  request_id text NOT NULL,
  person_id text COLLATE "C" NOT NULL,
  user_id text COLLATE "C",
  session_id text COLLATE "C",
  principal_class text NOT NULL,
  side text,
  organization_id text COLLATE "C",
  employment text,
  office text,
  terminal_id text COLLATE "C",
  route text NOT NULL,
  purpose text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('served', 'refused')),
  refusal text,
  query jsonb NOT NULL DEFAULT '{}',
  supply_point_ids text[] NOT NULL DEFAULT '{}',
  records jsonb NOT NULL DEFAULT '[]',
  policy_version text NOT NULL,
  emergency_id text
) PARTITION BY RANGE (occurred_at);
CREATE INDEX access_log_seq ON access_log (seq, id);
CREATE INDEX access_log_person_time ON access_log (person_id, occurred_at);
CREATE INDEX access_log_time ON access_log (occurred_at);
CREATE INDEX access_log_supply_points ON access_log USING gin (supply_point_ids);
CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON access_log FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

-- The end of the chain: one row, locked by each group commit, so that writers in several processes append
-- one after the other. Updatable by design; the verifier compares it with the last event (truncation).
CREATE TABLE access_log_head (
  id smallint PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  hash text COLLATE "C" NOT NULL,
  checkpoint_seq bigint NOT NULL,
  checkpoint_at timestamptz
);
INSERT INTO access_log_head (id, seq, hash, checkpoint_seq, checkpoint_at) VALUES (1, 0, repeat('0', 64), 0, NULL);

CREATE TABLE access_log_keys (
  key_id text COLLATE "C" PRIMARY KEY,
  public_key text NOT NULL,
  added_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE access_log_checkpoints (
  seq bigint PRIMARY KEY,
  hash text COLLATE "C" NOT NULL,
  signed_at timestamptz NOT NULL,
  key_id text COLLATE "C" NOT NULL REFERENCES access_log_keys (key_id),
  signature text NOT NULL
);

-- Partitions archived past the retention period: where each went and how its chain joins the rest.
CREATE TABLE access_log_archives (
  partition_name text PRIMARY KEY,
  first_seq bigint NOT NULL,
  last_seq bigint NOT NULL,
  first_prev_hash text COLLATE "C" NOT NULL,
  last_hash text COLLATE "C" NOT NULL,
  events bigint NOT NULL,
  file text NOT NULL,
  file_sha256 text NOT NULL,
  archived_at timestamptz NOT NULL
);

CREATE TRIGGER access_log_keys_no_update BEFORE UPDATE OR DELETE ON access_log_keys FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_checkpoints_no_update BEFORE UPDATE OR DELETE ON access_log_checkpoints FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_archives_no_update BEFORE UPDATE OR DELETE ON access_log_archives FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_checkpoints_no_truncate BEFORE TRUNCATE ON access_log_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_keys_no_truncate BEFORE TRUNCATE ON access_log_keys FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

-- Monthly partitions (Japan time; Japan has no daylight saving) are made on demand by the log writer
-- through this function, which runs with its owner's rights: the application's role never needs the right
-- to create tables.
CREATE FUNCTION access_log_ensure_partition(at timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  m timestamp := date_trunc('month', (at AT TIME ZONE 'UTC') + interval '9 hours');
  name text := 'access_log_y' || to_char(m, 'YYYY') || 'm' || to_char(m, 'MM');
  lo timestamptz := (m - interval '9 hours') AT TIME ZONE 'UTC';
  hi timestamptz := (m + interval '1 month' - interval '9 hours') AT TIME ZONE 'UTC';
BEGIN
  IF to_regclass(name) IS NULL THEN
    -- Writers in several processes may meet a new month at once: one creates it, the others find it made.
    BEGIN
      EXECUTE format('CREATE TABLE %I PARTITION OF access_log FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
      EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change()', name || '_no_truncate', name);
    EXCEPTION WHEN duplicate_table THEN
      NULL;
    END;
  END IF;
  RETURN name;
END $$;
