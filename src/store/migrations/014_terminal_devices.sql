-- Terminals bound to browsers by access administration (issue 19, part 3). A terminal ID the person types is
-- their own claim; a device binding is issued by an access administrator and held by the browser as a random
-- secret in an HttpOnly cookie, of which only the SHA-256 is kept here. Every login method reads the
-- terminal from it the same way.

-- A terminal used by several people in turn (a call centre's shared PCs, hot desks): single sign-on asks the
-- identity provider to authenticate the person again at every login (GRIDWALL_OIDC_REAUTH). Shared unless
-- access administration marks it personal (false): every terminal registered before, and every new one.
ALTER TABLE terminals ADD COLUMN shared boolean NOT NULL DEFAULT true;

-- One browser bound to one terminal. Ended by revocation, or by the terminal's retirement.
CREATE TABLE terminal_devices (
  id bigserial PRIMARY KEY,
  terminal_id text COLLATE "C" NOT NULL REFERENCES terminals (id),
  secret_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(secret_sha256) = 32),
  label text NOT NULL,
  -- 'browser': an access administrator registered the browser they were using; 'code': someone at the PC
  -- entered a one-time enrolment code an access administrator issued.
  method text NOT NULL CHECK (method IN ('browser', 'code')),
  enrolled_at timestamptz NOT NULL,
  enrolled_by text COLLATE "C" NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz,
  revoked_by text COLLATE "C",
  revoke_reason text,
  -- The access administrator answerable for the binding: who registered the browser, or who issued the code
  -- entered at the PC (enrolled_by is then code:<id>); their person, when a person did it.
  issued_by text COLLATE "C" NOT NULL,
  issued_by_person text COLLATE "C",
  -- A binding to a terminal that opens network-only data (network-set, at a network site) binds nothing
  -- until a second access administrator confirms it (no widening by one person); one may be rejected
  -- (which revokes it). Bindings to terminals that only narrow need no decision.
  decision text CHECK (decision IN ('confirmed', 'rejected')),
  decided_at timestamptz,
  decided_by text COLLATE "C",
  decided_by_person text COLLATE "C",
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)),
  CHECK ((decision IS NULL) = (decided_at IS NULL) AND (decision IS NULL) = (decided_by IS NULL)),
  -- The second person, enforced by the store as well as by the code.
  CHECK (decision IS DISTINCT FROM 'confirmed' OR (decided_by_person IS NOT NULL AND decided_by_person IS DISTINCT FROM issued_by_person)),
  CHECK (decision IS DISTINCT FROM 'rejected' OR revoked_at IS NOT NULL)
);
CREATE INDEX terminal_devices_terminal ON terminal_devices (terminal_id) WHERE revoked_at IS NULL;

-- One-time enrolment codes: issued for a terminal by an access administrator, shown once, entered once at the
-- PC before they expire. Only the code's SHA-256 is kept.
CREATE TABLE terminal_enrollment_codes (
  id bigserial PRIMARY KEY,
  terminal_id text COLLATE "C" NOT NULL REFERENCES terminals (id),
  code_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(code_sha256) = 32),
  created_by text COLLATE "C" NOT NULL,
  created_by_person text COLLATE "C",
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL CHECK (expires_at > created_at),
  used_at timestamptz,
  device_id bigint REFERENCES terminal_devices (id),
  CHECK ((used_at IS NULL) = (device_id IS NULL))
);

-- Where a session's terminal came from: a device binding, a trusted reverse proxy, or the person's own claim
-- (a typed terminal ID); NULL: none. The ID token single sign-on returned, kept only to ask the identity
-- provider to end its session at logout (id_token_hint): cleared by every statement that ends a session
-- (logout, logout everywhere, a leaver or mover, the dormant sweep, a revoked device, a retired terminal),
-- and for a session that timed out (idle or absolute) when it is next read or by the daily sweep.
-- Sessions opened before this migration carried only typed terminal IDs: claims.
ALTER TABLE sessions
  ADD COLUMN terminal_source text CHECK (terminal_source IN ('device', 'proxy', 'claimed')),
  ADD COLUMN device_id bigint REFERENCES terminal_devices (id),
  ADD COLUMN oidc_id_token text;
UPDATE sessions SET terminal_source = 'claimed' WHERE terminal_id IS NOT NULL;
ALTER TABLE sessions
  ADD CONSTRAINT sessions_terminal_source CHECK ((terminal_source IS NULL) = (terminal_id IS NULL)),
  ADD CONSTRAINT sessions_device_source CHECK ((device_id IS NOT NULL) = (terminal_source IS NOT DISTINCT FROM 'device'));
CREATE INDEX sessions_device_live ON sessions (device_id) WHERE ended_at IS NULL AND device_id IS NOT NULL;

-- A single sign-on in flight remembers where its terminal came from (the callback arrives from the provider's
-- site, without the browser's SameSite=Strict device cookie), and whether it asked the provider to
-- authenticate the person again (then the ID token's auth_time must fall within the login).
ALTER TABLE oidc_logins
  ADD COLUMN terminal_source text CHECK (terminal_source IN ('device', 'proxy', 'claimed')),
  ADD COLUMN device_id bigint REFERENCES terminal_devices (id),
  ADD COLUMN reauth boolean NOT NULL DEFAULT false;
