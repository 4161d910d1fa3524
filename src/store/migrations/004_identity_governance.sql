-- People, not terminals (issue #5): how people log in, what they are granted and by whom, which terminals
-- exist and where they stand, what the HR system told us, and every governance action as evidence.

-- Accounts: local credentials (argon2id + TOTP), the OpenID subject they are bound to, and their last login
-- (dormant accounts are disabled after N days without one).
ALTER TABLE accounts
  ADD COLUMN password_hash text,
  ADD COLUMN totp_secret text,
  ADD COLUMN totp_last_step bigint,
  ADD COLUMN oidc_issuer text,
  ADD COLUMN oidc_subject text,
  ADD COLUMN last_login_at timestamptz,
  ADD COLUMN disabled_reason text,
  ADD COLUMN provisioned_by text NOT NULL DEFAULT 'manual' CHECK (provisioned_by IN ('manual', 'scim', 'demo')),
  ADD CONSTRAINT accounts_oidc_pair CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL));
CREATE UNIQUE INDEX accounts_oidc ON accounts (oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;

-- Persons as the HR system knows them (SCIM `externalId`, `active`).
ALTER TABLE persons
  ADD COLUMN external_id text,
  ADD COLUMN active boolean NOT NULL DEFAULT true,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE UNIQUE INDEX persons_external_id ON persons (external_id) WHERE external_id IS NOT NULL;

ALTER TABLE sessions ADD COLUMN auth_method text NOT NULL DEFAULT 'demo' CHECK (auth_method IN ('demo', 'password', 'oidc'));
CREATE INDEX sessions_user_live ON sessions (user_id) WHERE ended_at IS NULL;

-- Terminals: where a terminal really stands (the side of the site, from the physical inventory) next to its
-- configured setting. A terminal only narrows: network-only data needs a network-set terminal at a network site.
ALTER TABLE terminals
  ADD COLUMN site_side text CHECK (site_side IN ('network', 'retail', 'shared')),
  ADD COLUMN registered_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN retired_at timestamptz,
  ADD COLUMN last_used_at timestamptz;
UPDATE terminals t SET site_side = CASE o.kind WHEN 'network_operator' THEN 'network' ELSE 'retail' END
  FROM organizations o WHERE o.id = t.organization_id;
ALTER TABLE terminals ALTER COLUMN site_side SET NOT NULL;

-- The permission catalog (kept in step with src/governance/permissions.ts at every start). Each permission
-- names the sides that may ever hold it; a scoped permission applies to one organization's people.
CREATE TABLE permissions (
  id text COLLATE "C" PRIMARY KEY,
  name_ja text NOT NULL,
  name_en text NOT NULL,
  allowed_sides text[] NOT NULL CHECK (allowed_sides <@ ARRAY['network', 'retail', 'other_retailer']::text[]),
  scoped boolean NOT NULL,
  max_days integer NOT NULL CHECK (max_days > 0)
);

-- Grants: request → approval by another person who may approve in that scope; always with an expiry.
CREATE TABLE grants (
  id bigserial PRIMARY KEY,
  user_id text COLLATE "C" NOT NULL REFERENCES accounts (user_id),
  permission_id text COLLATE "C" NOT NULL REFERENCES permissions (id),
  scope_organization_id text COLLATE "C" REFERENCES organizations (id),
  status text NOT NULL CHECK (status IN ('requested', 'approved', 'rejected', 'revoked')),
  reason text NOT NULL,
  requested_by text COLLATE "C" NOT NULL,
  requested_by_person text COLLATE "C" NOT NULL,
  requested_at timestamptz NOT NULL,
  decided_by text COLLATE "C",
  decided_by_person text COLLATE "C",
  decided_at timestamptz,
  decision_comment text,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_by text COLLATE "C",
  revoke_reason text,
  CHECK ((status = 'requested') = (decided_at IS NULL)),
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX grants_user ON grants (user_id) WHERE status = 'approved';
CREATE INDEX grants_queue ON grants (requested_at) WHERE status = 'requested';

-- Recertification: each grant in a campaign is confirmed or revoked by its reviewer; a grant left
-- unreviewed stops counting at the campaign's end (the decision reads the deadline; no job has to run).
CREATE TABLE recert_campaigns (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  created_by text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  CHECK (ends_at > created_at)
);
CREATE TABLE recert_items (
  campaign_id bigint NOT NULL REFERENCES recert_campaigns (id),
  grant_id bigint NOT NULL REFERENCES grants (id),
  reviewer_user_id text COLLATE "C",
  decision text CHECK (decision IN ('confirmed', 'revoked')),
  decided_by text COLLATE "C",
  decided_at timestamptz,
  comment text,
  PRIMARY KEY (campaign_id, grant_id),
  CHECK ((decision IS NULL) = (decided_at IS NULL))
);
CREATE INDEX recert_items_grant ON recert_items (grant_id) WHERE decision IS NULL;

-- API tokens for other retailers' systems and the HR system: bound to an account (whose person answers for
-- it), scoped, expiring, revocable. Only a SHA-256 of the secret is kept.
CREATE TABLE api_tokens (
  id text COLLATE "C" PRIMARY KEY,
  secret_sha256 bytea NOT NULL,
  name text NOT NULL,
  user_id text COLLATE "C" NOT NULL REFERENCES accounts (user_id),
  scopes text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['customer.read', 'scim']::text[]),
  created_by text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  last_used_at timestamptz
);

-- Every governance action — done or refused — as evidence. Append-only like the access log.
CREATE TABLE governance_events (
  id bigserial PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  actor_kind text NOT NULL CHECK (actor_kind IN ('person', 'token', 'system')),
  actor_user_id text COLLATE "C",
  actor_person_id text COLLATE "C",
  action text NOT NULL,
  subject_type text NOT NULL,
  subject_id text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('done', 'refused')),
  rule text,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX governance_events_time ON governance_events (occurred_at);
CREATE INDEX governance_events_subject ON governance_events (subject_type, subject_id);
CREATE FUNCTION governance_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'governance_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER governance_events_no_update BEFORE UPDATE OR DELETE ON governance_events FOR EACH ROW EXECUTE FUNCTION governance_events_refuse_change();
CREATE TRIGGER governance_events_no_truncate BEFORE TRUNCATE ON governance_events FOR EACH STATEMENT EXECUTE FUNCTION governance_events_refuse_change();
