-- Terminal registrations and changes that wait for a second access administrator (issue 20, live rules). A
-- network-set terminal standing at a retail or shared site is what the Tohoku case was made of (F1): one
-- administrator registering one, or re-setting a terminal into that state, is not applied but kept here as a
-- request until another access administrator approves it with a reason (or rejects it). What the request
-- would write is kept as asked, and written to `terminals` only at approval.
CREATE TABLE terminal_requests (
  id bigserial PRIMARY KEY,
  terminal_id text COLLATE "C" NOT NULL,
  organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
  office text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('dedicated', 'virtual')),
  setting text NOT NULL CHECK (setting IN ('network', 'retail')),
  site_side text NOT NULL CHECK (site_side IN ('network', 'retail', 'shared')),
  -- As in the PUT: NULL keeps a registered terminal's marking (a new one is shared).
  shared boolean,
  -- Whether the terminal was registered when asked: a registration, or a change of an existing terminal.
  registered boolean NOT NULL,
  request_reason text,
  requested_at timestamptz NOT NULL,
  requested_by text COLLATE "C" NOT NULL,
  requested_by_person text COLLATE "C",
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  decided_at timestamptz,
  decided_by text COLLATE "C",
  decided_by_person text COLLATE "C",
  decision_reason text,
  CHECK ((status = 'pending') = (decided_at IS NULL) AND (status = 'pending') = (decided_by IS NULL)),
  -- Every decision says why.
  CHECK (status = 'pending' OR length(trim(coalesce(decision_reason, ''))) > 0),
  -- The second person, enforced by the store as well as by the code.
  CHECK (status <> 'approved' OR (decided_by_person IS NOT NULL AND decided_by_person IS DISTINCT FROM requested_by_person))
);
-- One open request per terminal: a second one waits for the first to be decided.
CREATE UNIQUE INDEX terminal_requests_one_pending ON terminal_requests (terminal_id) WHERE status = 'pending';
