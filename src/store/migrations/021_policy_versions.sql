-- The decision tables that decided reads (issue 22): each version the log names, recorded when a server first
-- runs it, with what it allowed and the masking checklist's verdict then. The exposure report of a period judges
-- every version its reads were decided by from here — an earlier build's table is no longer in the code. Append-
-- only: a verdict, once recorded, is evidence.
CREATE TABLE policy_versions (
  version text COLLATE "C" PRIMARY KEY CHECK (version ~ '^[0-9a-f]{64}$'),
  recorded_at timestamptz NOT NULL,
  -- The checklist's violations of the table (src/firewall/verify.ts findViolations): empty for a table that
  -- lets no retail principal see another retailer's customer's non-public items outside an emergency or an
  -- inquiry answer, shows no network-only item outside the network side, and nothing to the unassigned.
  violations jsonb NOT NULL,
  -- Every allowing decision, as named tuples [principal class, relation, field, emergency, inquiry, purpose,
  -- basis]: the table itself, re-judgeable by later rules.
  allowed jsonb NOT NULL
);
CREATE FUNCTION policy_versions_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'policy_versions is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER policy_versions_no_update BEFORE UPDATE OR DELETE ON policy_versions FOR EACH ROW EXECUTE FUNCTION policy_versions_refuse_change();
CREATE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON policy_versions FOR EACH STATEMENT EXECUTE FUNCTION policy_versions_refuse_change();
