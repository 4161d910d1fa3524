-- Limits on login attempts counted in the store (issue 21): one count per client address and per user ID for
-- every server process, so N processes behind one address (gridwall start --workers N, or a proxy in front of
-- several hosts) allow what one process allows, not N times it. The key is a digest of what is limited (an
-- address, a typed user ID): nothing a person typed is kept. Rows whose window ended are removed as they go.
CREATE TABLE rate_limit_windows (
  key_digest text COLLATE "C" PRIMARY KEY,
  hits integer NOT NULL CHECK (hits > 0),
  window_ends timestamptz NOT NULL
);
CREATE INDEX rate_limit_windows_ends ON rate_limit_windows (window_ends);
