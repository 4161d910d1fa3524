-- No fork (issue 15): a sequence number is used once. The log is partitioned by month, so no unique index can
-- span it; instead the one way into the chain refuses a batch while any event is stored past the head — as a
-- head rewound with its seals removed but its events left would have had the writer number on from it and
-- repeat those numbers. The check reads the end of each partition's (seq, id) index.
CREATE OR REPLACE FUNCTION access_log_append(p_head bigint, p_head_hash text, p_events jsonb, p_seal jsonb)
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
  -- Nothing may stand past the head: a batch numbered on from it would repeat those numbers (a fork). Asked
  -- as the highest number stored — one step down each partition's (seq, id) index from its end — not as
  -- `EXISTS (… WHERE seq > head)`: the function's cached generic plan for that scanned whole partitions, and
  -- halved the append rate (bench:audit).
  IF (SELECT max(access_log.seq) FROM access_log) > h.seq THEN
    RAISE EXCEPTION 'access_log_append: events are stored past the head (event %): the chain was changed outside the writer', h.seq USING ERRCODE = 'GWL01';
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
