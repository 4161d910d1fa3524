-- The application's role registers no signing key but the log's first, its own (issue 17, the open point of
-- 010): it could call access_log_add_key and so register any key at any time, with no governance event.
-- Now the first writer of an empty log registers its key through access_log_add_first_key, which records the
-- system's act itself; every later key is registered by `gridwall audit key register` as the schema's owner
-- (access_log_add_key stays the owner's; `gridwall db grant-app` no longer grants it).

-- The first key of an empty log, in one act: the key table locked against other first writers (and against
-- any other registration) until the caller's transaction ends, the key checked as access_log_add_key checks
-- it, inserted only while the table holds no other key, and its governance event written beside it — once:
-- two writers starting together with one key both find it registered, and only the first records it. Returns
-- whether the key is registered; false (nothing registered) when the log is signed with other keys.
CREATE FUNCTION access_log_add_first_key(p_key_id text, p_pem text, p_at timestamptz) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  mine boolean;
  others boolean;
BEGIN
  -- Conflicts with itself and with INSERT: a second first writer waits here, then reads the first's commit.
  LOCK TABLE access_log_keys IN SHARE ROW EXCLUSIVE MODE;
  SELECT coalesce(bool_or(key_id = p_key_id), false), coalesce(bool_or(key_id <> p_key_id), false) INTO mine, others FROM access_log_keys;
  IF others AND NOT mine THEN
    RETURN false;
  END IF;
  PERFORM access_log_add_key(p_key_id, p_pem);
  IF NOT mine THEN
    INSERT INTO governance_events (occurred_at, actor_kind, actor_user_id, actor_person_id, action, subject_type, subject_id, outcome, rule, details)
    VALUES (p_at, 'system', NULL, NULL, 'log_key.register', 'log_key', p_key_id, 'done', NULL, jsonb_build_object('first', true, 'job', 'log-writer'));
  END IF;
  RETURN true;
END $$;

REVOKE EXECUTE ON FUNCTION access_log_add_first_key(text, text, timestamptz) FROM PUBLIC;

-- Roles granted access_log_add_key before (the application's, by an older `gridwall db grant-app`) lose it now,
-- not only when grant-app runs again: the owner alone registers keys by it.
DO $$ DECLARE r record; BEGIN
  FOR r IN
    SELECT DISTINCT pg_get_userbyid(a.grantee) AS grantee FROM pg_proc p, aclexplode(p.proacl) a
     WHERE p.oid = 'access_log_add_key(text, text)'::regprocedure AND a.grantee <> p.proowner AND a.grantee <> 0
  LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION access_log_add_key(text, text) FROM %I', r.grantee);
  END LOOP;
END $$;
