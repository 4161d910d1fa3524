-- SCIM conformance for the HR system's provisioning clients (issue 19). Three changes to what a SCIM User is
-- in the store; docs/identity.md ("Provisioning (SCIM)") says why each is so.

-- 1. The login name HR gives a person (SCIM `userName`) is an attribute of the account, apart from its user
--    ID. The user ID stays what the log, the sessions, the grants and the governance events name forever; the
--    name may change (a marriage name in the UPN) and is unique ignoring case (RFC 7643 §4.1.1: caseExact
--    false, uniqueness server), kept as HR spelled it. Only a person's account has one: service accounts are
--    never SCIM Users. NULL: not a SCIM User's name (a service account, or a User HR deleted — the name is
--    free again for somebody else, never the account).
ALTER TABLE accounts ADD COLUMN user_name text;
ALTER TABLE accounts ADD CONSTRAINT accounts_user_name_person CHECK (user_name IS NULL OR kind = 'person');

-- Set for every person's account made later, by whatever path (SCIM, the demo, the CLI): its name is its user
-- ID. A second name equal to another ignoring case is refused by the unique index below.
CREATE FUNCTION accounts_default_user_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.kind = 'person' AND NEW.user_name IS NULL THEN
    NEW.user_name := NEW.user_id;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_default_user_name BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_default_user_name();

-- Existing people's accounts get their user ID as their name. That does not make them SCIM Users: SCIM lists
-- and changes only accounts it provisioned or an operator handed over to it (`provisioned_by = 'scim'`,
-- `gridwall accounts scim-handover`; docs/access-governance.md, "Introducing HR sync at a site with accounts").
-- The name is what the IdP will match once the account is handed over. (Comment corrected after the migration
-- shipped; the statements are unchanged.)
UPDATE accounts SET user_name = user_id WHERE kind = 'person';

-- Accounts made before, whose user IDs differ only by case (SCIM made `k.arai` and `K.Arai` two people), are
-- not renamed or merged by a migration — which of them HR means is HR's to say. They keep their names and are
-- marked: the unique index leaves them out, a filter on the name finds all of them (so the HR system sees
-- the duplicate and its operator deletes the wrong one over SCIM, which frees the name), a new User with that
-- name is refused, and each group is recorded in the governance log (`scim.user_name_clash`, refused), which
-- the access administration's screen shows. Nothing fails silently, and nothing stops the upgrade.
ALTER TABLE accounts ADD COLUMN user_name_clash boolean NOT NULL DEFAULT false;
UPDATE accounts SET user_name_clash = true
 WHERE user_name IS NOT NULL
   AND lower(user_name) IN (SELECT lower(user_name) FROM accounts WHERE user_name IS NOT NULL GROUP BY lower(user_name) HAVING count(*) > 1);
INSERT INTO governance_events (occurred_at, actor_kind, actor_user_id, actor_person_id, action, subject_type, subject_id, outcome, rule, details)
SELECT now(), 'system', NULL, NULL, 'scim.user_name_clash', 'account', min(user_id), 'refused', 'user_name_case_clash',
       jsonb_build_object('job', 'migration 013', 'userIds', jsonb_agg(user_id ORDER BY user_id))
  FROM accounts WHERE user_name_clash GROUP BY lower(user_name);

CREATE UNIQUE INDEX accounts_user_name_ci ON accounts (lower(user_name)) WHERE user_name IS NOT NULL AND NOT user_name_clash;

-- 2. A User HR deleted (RFC 7644 §3.6): the person stays for the log, only the SCIM view is gone — GET, PUT,
--    PATCH and DELETE answer 404 and lists leave it out.
ALTER TABLE persons ADD COLUMN scim_deleted_at timestamptz;

-- 3. Which of a person's accounts is the SCIM User's: the one SCIM provisioned or took over, else the enabled,
--    newest one (identity/scim.ts). Found by person.
CREATE INDEX accounts_person_user_name ON accounts (person_id) WHERE user_name IS NOT NULL;
