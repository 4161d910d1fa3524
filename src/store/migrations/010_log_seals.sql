-- The database stores the log; it is not the authority on what the writer wrote (issue 15).
--
-- Every group commit carries a seal signed by the writer's key (outside the database): the batch's first and
-- last sequence numbers and the hashes at both ends. Events no seal covers were not written by the writer.
-- Rows enter the chain only through access_log_append, which runs as the tables' owner and checks that the
-- batch links to the head and that the head is sealed; the application's role has no INSERT on the log and no
-- UPDATE on the head (see `gridwall db grant-app`).

CREATE TABLE access_log_seals (
  seq bigint PRIMARY KEY,
  first_seq bigint NOT NULL CHECK (first_seq >= 1 AND first_seq <= seq),
  prev_hash text COLLATE "C" NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash text COLLATE "C" NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  -- The digest of the seal before (seals chain, so the last signature vouches for all before it).
  prev_seal text COLLATE "C" NOT NULL CHECK (prev_seal ~ '^[0-9a-f]{64}$'),
  signed_at timestamptz NOT NULL,
  key_id text COLLATE "C" NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
  signature text NOT NULL
);
CREATE TRIGGER access_log_seals_no_update BEFORE UPDATE OR DELETE ON access_log_seals FOR EACH ROW EXECUTE FUNCTION access_log_refuse_change();
CREATE TRIGGER access_log_seals_no_truncate BEFORE TRUNCATE ON access_log_seals FOR EACH STATEMENT EXECUTE FUNCTION access_log_refuse_change();

-- Checkpoints of version 1 stay as they were (verified where they fall); seals replace them.
ALTER TABLE access_log_checkpoints DROP CONSTRAINT access_log_checkpoints_key_id_fkey;
ALTER TABLE access_log_head DROP COLUMN checkpoint_seq, DROP COLUMN checkpoint_at;

-- One group commit: lock the head; if it is not where the writer last saw it, change nothing and say where it
-- is. Otherwise the batch must follow the head — numbered on from it without gap or repeat, its first event
-- linked to it — the head must be sealed (nothing unaccounted for stands at the end), and the seal must cover
-- exactly the batch. Structure only: the hashes, the links inside the batch, the signatures and the seals'
-- own chain are the writer's and the verifier's to check (a batch that breaks them stops the writer). Its refusals carry
-- SQLSTATE GWL01, so that the writer tells them from any other failure.
CREATE FUNCTION access_log_append(p_head bigint, p_head_hash text, p_events jsonb, p_seal jsonb)
RETURNS TABLE (moved boolean, head_seq bigint, head_hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  h record;
  n int := jsonb_array_length(p_events);
  b record;
  sealed bigint;
BEGIN
  SELECT access_log_head.seq, access_log_head.hash INTO h FROM access_log_head WHERE id = 1 FOR UPDATE;
  IF h.seq <> p_head OR h.hash <> p_head_hash THEN
    RETURN QUERY SELECT false, h.seq, h.hash;
    RETURN;
  END IF;
  IF n = 0 THEN
    RAISE EXCEPTION 'access_log_append: an empty batch' USING ERRCODE = 'GWL01';
  END IF;
  SELECT coalesce(max(access_log_seals.seq), 0) INTO sealed FROM access_log_seals;
  IF sealed <> h.seq THEN
    RAISE EXCEPTION 'access_log_append: the head (event %) is not the last sealed event (%): the chain was changed outside the writer', h.seq, sealed USING ERRCODE = 'GWL01';
  END IF;
  -- The batch is read once: inserted, and checked on what was inserted (an error undoes it all): numbered
  -- p_head + 1 … p_head + n without gap or repeat, its first event linked to the head.
  WITH ins AS (
    INSERT INTO access_log (seq, prev_hash, hash, occurred_at, request_id, person_id, user_id, session_id, principal_class, side,
                            organization_id, employment, office, terminal_id, route, purpose, outcome, refusal, query,
                            supply_point_ids, records, policy_version, emergency_id)
    SELECT seq, prev_hash, hash, occurred_at, request_id, person_id, user_id, session_id, principal_class, side,
           organization_id, employment, office, terminal_id, route, purpose, outcome, refusal, query,
           supply_point_ids, records, policy_version, emergency_id
      FROM jsonb_to_recordset(p_events) AS x(seq bigint, prev_hash text, hash text, occurred_at timestamptz, request_id text,
        person_id text, user_id text, session_id text, principal_class text, side text, organization_id text, employment text,
        office text, terminal_id text, route text, purpose text, outcome text, refusal text, query jsonb, supply_point_ids text[],
        records jsonb, policy_version text, emergency_id text)
    RETURNING access_log.seq, access_log.prev_hash, access_log.hash)
  SELECT count(*) AS rows, count(DISTINCT ins.seq) AS distinct_seqs, min(ins.seq) AS lo, max(ins.seq) AS hi,
         bool_or(ins.seq = p_head + 1 AND ins.prev_hash = p_head_hash) AS anchored,
         max(ins.hash) FILTER (WHERE ins.seq = p_head + n) AS last_hash
    INTO b FROM ins;
  IF b.rows <> n OR b.distinct_seqs <> n OR b.lo <> p_head + 1 OR b.hi <> p_head + n OR NOT b.anchored THEN
    RAISE EXCEPTION 'access_log_append: the batch does not follow the head (event %)', p_head USING ERRCODE = 'GWL01';
  END IF;
  IF (p_seal ->> 'firstSeq')::bigint <> p_head + 1 OR (p_seal ->> 'seq')::bigint <> p_head + n
     OR p_seal ->> 'prevHash' <> p_head_hash OR p_seal ->> 'hash' <> b.last_hash THEN
    RAISE EXCEPTION 'access_log_append: the seal does not cover the batch' USING ERRCODE = 'GWL01';
  END IF;
  INSERT INTO access_log_seals (seq, first_seq, prev_hash, hash, prev_seal, signed_at, key_id, signature)
  VALUES (p_head + n, p_head + 1, p_head_hash, b.last_hash, p_seal ->> 'prevSeal', (p_seal ->> 'signedAt')::timestamptz, p_seal ->> 'keyId', p_seal ->> 'signature');
  UPDATE access_log_head SET seq = p_head + n, hash = b.last_hash WHERE id = 1;
  RETURN QUERY SELECT true, p_head + n, b.last_hash;
END $$;

-- A log written before seals existed: the writer verifies it whole, then signs one seal over all of it. Only
-- while no seal exists, and only for exactly the chain up to the head.
CREATE FUNCTION access_log_seal_existing(p_seal jsonb) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  h record;
BEGIN
  SELECT access_log_head.seq, access_log_head.hash INTO h FROM access_log_head WHERE id = 1 FOR UPDATE;
  IF EXISTS (SELECT 1 FROM access_log_seals) OR h.seq = 0 THEN
    RETURN false;
  END IF;
  IF (p_seal ->> 'firstSeq')::bigint <> 1 OR (p_seal ->> 'seq')::bigint <> h.seq OR p_seal ->> 'prevHash' <> repeat('0', 64) OR p_seal ->> 'hash' <> h.hash
     OR p_seal ->> 'prevSeal' <> repeat('0', 64) THEN
    RAISE EXCEPTION 'access_log_seal_existing: the seal does not cover the chain up to its head' USING ERRCODE = 'GWL01';
  END IF;
  INSERT INTO access_log_seals (seq, first_seq, prev_hash, hash, prev_seal, signed_at, key_id, signature)
  VALUES (h.seq, 1, p_seal ->> 'prevHash', h.hash, p_seal ->> 'prevSeal', (p_seal ->> 'signedAt')::timestamptz, p_seal ->> 'keyId', p_seal ->> 'signature');
  RETURN true;
END $$;

-- Public keys enter only as well-formed Ed25519 keys whose id is theirs (they are informational: verification
-- trusts keys from outside the database, never these).
CREATE FUNCTION access_log_add_key(p_key_id text, p_pem text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  body text;
  der bytea;
BEGIN
  body := substring(p_pem FROM '^-----BEGIN PUBLIC KEY-----\s+([A-Za-z0-9+/=\s]+?)\s*-----END PUBLIC KEY-----\s*$');
  IF body IS NULL THEN
    RAISE EXCEPTION 'access_log_add_key: not a PEM public key' USING ERRCODE = 'GWL01';
  END IF;
  der := decode(regexp_replace(body, '\s', '', 'g'), 'base64');
  IF length(der) <> 44 OR substring(der FROM 1 FOR 12) <> '\x302a300506032b6570032100'::bytea THEN
    RAISE EXCEPTION 'access_log_add_key: not an Ed25519 public key' USING ERRCODE = 'GWL01';
  END IF;
  IF p_key_id IS DISTINCT FROM left(encode(sha256(der), 'hex'), 16) THEN
    RAISE EXCEPTION 'access_log_add_key: the key id is not the key''s (the first 16 hex digits of SHA-256 over its DER)' USING ERRCODE = 'GWL01';
  END IF;
  INSERT INTO access_log_keys (key_id, public_key) VALUES (p_key_id, p_pem) ON CONFLICT (key_id) DO NOTHING;
END $$;

REVOKE EXECUTE ON FUNCTION access_log_append(bigint, text, jsonb, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION access_log_seal_existing(jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION access_log_add_key(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION access_log_ensure_partition(timestamptz) FROM PUBLIC;
