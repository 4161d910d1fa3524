-- OpenID Connect logins in flight: between the redirect to the identity provider and its callback.
-- Kept in the store (not in memory) so any server behind a load balancer can finish a login another began;
-- a row is consumed by the callback (DELETE … RETURNING), so a state can be used once only.
CREATE TABLE oidc_logins (
  -- SHA-256 of the random handle in the browser's gw_oidc cookie: the row is bound to that browser.
  handle_hash bytea PRIMARY KEY,
  state text NOT NULL,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  terminal_id text COLLATE "C",
  started_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL CHECK (expires_at > started_at)
);
CREATE INDEX oidc_logins_expiry ON oidc_logins (expires_at);
