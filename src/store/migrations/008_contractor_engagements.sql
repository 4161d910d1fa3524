-- Whom a contractor company works for (issue 14). Staff of the network operator and of a retailer act for
-- their own organization; staff of a contractor company act for a client it is engaged by, so the side and
-- retailer HR may give them (SCIM) follow from these rows: the network operator as client → the network
-- side; a retailer as client → that retailer (`retail` if it is the affiliated retailer, else
-- `other_retailer`). A contractor company may be engaged by several clients at once (different staff each).
-- Nothing is back-filled from staff_assignments: that would take for a contract what HR typed, the very thing
-- this table exists to check. Until a company's engagements are entered, SCIM refuses to place its staff.
CREATE TABLE contractor_engagements (
  id bigserial PRIMARY KEY,
  contractor_organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
  client_organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  CHECK (contractor_organization_id <> client_organization_id),
  CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX contractor_engagements_contractor ON contractor_engagements (contractor_organization_id, valid_from);

-- The contractor must be a contractor company and the client the network operator or a retailer; a CHECK
-- cannot look at another table, so a trigger does.
CREATE FUNCTION contractor_engagements_kinds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM organizations WHERE id = NEW.contractor_organization_id AND kind = 'contractor') THEN
    RAISE EXCEPTION 'contractor_engagements: % is not a contractor company', NEW.contractor_organization_id;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM organizations WHERE id = NEW.client_organization_id AND kind IN ('network_operator', 'retailer')) THEN
    RAISE EXCEPTION 'contractor_engagements: client % is neither the network operator nor a retailer', NEW.client_organization_id;
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER contractor_engagements_kinds BEFORE INSERT OR UPDATE ON contractor_engagements
  FOR EACH ROW EXECUTE FUNCTION contractor_engagements_kinds();
