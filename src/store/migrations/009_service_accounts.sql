-- Service accounts (issue 14). API tokens are for systems, never for a person: before this, an access
-- administrator could issue a token to any person's account and read, through it, everything that person may
-- read. A service account is an account no person logs in as; its identity is a system (a persons row of kind
-- 'system' placed at a retailer's organization, or at none for the HR system), and a person answers for it
-- (its owner). A token is issued to a service account only, and works only once a second person approved it.
ALTER TABLE persons ADD COLUMN kind text NOT NULL DEFAULT 'human' CHECK (kind IN ('human', 'system'));

ALTER TABLE accounts ADD COLUMN kind text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service'));
ALTER TABLE accounts ADD COLUMN owner_person_id text COLLATE "C" REFERENCES persons (id);
ALTER TABLE accounts ADD CONSTRAINT accounts_service_owner CHECK ((kind = 'service') = (owner_person_id IS NOT NULL));
ALTER TABLE accounts ADD CONSTRAINT accounts_owner_not_itself CHECK (owner_person_id IS NULL OR owner_person_id <> person_id);
CREATE INDEX accounts_owner ON accounts (owner_person_id) WHERE owner_person_id IS NOT NULL;

-- The kind of an account follows the kind of its identity: a person's account for a human, a service account
-- for a system. Checked by the store, so no code path (fixture, CLI, SCIM) can cross them.
CREATE FUNCTION accounts_kind_matches_identity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT p.kind FROM persons p WHERE p.id = NEW.person_id) IS DISTINCT FROM (CASE NEW.kind WHEN 'service' THEN 'system' ELSE 'human' END) THEN
    RAISE EXCEPTION 'account % (%) must belong to a % identity', NEW.user_id, NEW.kind, CASE NEW.kind WHEN 'service' THEN 'system' ELSE 'human' END
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_kind_matches_identity BEFORE INSERT OR UPDATE OF kind, person_id ON accounts
  FOR EACH ROW EXECUTE FUNCTION accounts_kind_matches_identity();

-- No session is ever opened for a service account (no login path may reach it, even by mistake).
CREATE FUNCTION sessions_people_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT a.kind FROM accounts a WHERE a.user_id = NEW.user_id) IS DISTINCT FROM 'person' THEN
    RAISE EXCEPTION 'no session for account %: only a person''s account logs in', NEW.user_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER sessions_people_only BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION sessions_people_only();

-- Tokens: requested by one person, approved by another (like a grant); only for service accounts.
ALTER TABLE api_tokens ADD COLUMN status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected'));
ALTER TABLE api_tokens ADD COLUMN created_by_person text COLLATE "C";
ALTER TABLE api_tokens ADD COLUMN decided_by text COLLATE "C";
ALTER TABLE api_tokens ADD COLUMN decided_by_person text COLLATE "C";
ALTER TABLE api_tokens ADD COLUMN decided_at timestamptz;
ALTER TABLE api_tokens ADD COLUMN revoke_reason text;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_decided CHECK ((status = 'pending') = (decided_at IS NULL));

-- Every token issued so far belonged to a person's account: none of them may go on working.
UPDATE api_tokens SET status = 'approved', decided_at = created_at, decided_by = 'system:migration', revoked_at = COALESCE(revoked_at, now()),
  revoke_reason = COALESCE(revoke_reason, 'issued to a personal account (before service accounts)');

-- Checked by the store as well as by the code: a token goes to a service account only, is requested by a
-- person, and is approved by a second person who is neither that requester nor the service account's owner.
CREATE FUNCTION api_tokens_two_people() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  account record;
BEGIN
  SELECT a.kind, a.owner_person_id INTO account FROM accounts a WHERE a.user_id = NEW.user_id;
  IF (TG_OP = 'INSERT' OR NEW.user_id IS DISTINCT FROM OLD.user_id) AND account.kind IS DISTINCT FROM 'service' THEN
    RAISE EXCEPTION 'no API token for account %: tokens are issued to service accounts only', NEW.user_id USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'INSERT' AND NEW.created_by_person IS NULL THEN
    RAISE EXCEPTION 'token %: a token is requested by a person', NEW.id USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status = 'approved' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'approved')
     AND (NEW.created_by_person IS NULL OR NEW.decided_by_person IS NULL OR NEW.decided_by_person = NEW.created_by_person
          OR NEW.decided_by_person IS NOT DISTINCT FROM account.owner_person_id) THEN
    RAISE EXCEPTION 'token %: approved by a second person, neither its requester nor its owner', NEW.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER api_tokens_two_people BEFORE INSERT OR UPDATE ON api_tokens FOR EACH ROW EXECUTE FUNCTION api_tokens_two_people();

-- A person who rejoins is counted dormant from the rejoin, not from their last login before they left.
ALTER TABLE accounts ADD COLUMN reenabled_at timestamptz;

