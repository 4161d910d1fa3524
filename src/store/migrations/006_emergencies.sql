-- Declared emergencies (issue #6). A declaration gives access only inside its window: from its start (never
-- before a second person confirmed it) to its planned end or an early end. Every read decision reads the
-- window, so access ends by itself; nothing has to switch it off.
CREATE SEQUENCE emergency_declaration_no;
CREATE TABLE emergency_declarations (
  id text COLLATE "C" PRIMARY KEY,
  reason text NOT NULL CHECK (length(reason) > 0),
  starts_at timestamptz NOT NULL,
  planned_end_at timestamptz NOT NULL CHECK (planned_end_at > starts_at),
  -- An extension is a declaration of its own, starting at its parent's planned end, confirmed again.
  extends_id text COLLATE "C" REFERENCES emergency_declarations (id),
  status text NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected', 'withdrawn')),
  declared_by text COLLATE "C" NOT NULL,
  declared_by_person text COLLATE "C" NOT NULL,
  declared_at timestamptz NOT NULL,
  decided_by text COLLATE "C",
  decided_by_person text COLLATE "C",
  decided_at timestamptz,
  decision_comment text,
  ended_at timestamptz,
  ended_by text COLLATE "C",
  end_reason text,
  signed_off_by text COLLATE "C",
  signed_off_by_person text COLLATE "C",
  signed_off_at timestamptz,
  sign_off_comment text,
  CHECK ((status = 'pending') = (decided_at IS NULL)),
  -- The second person, enforced by the store as well as by the code.
  CHECK (decided_by_person IS NULL OR status = 'withdrawn' OR decided_by_person <> declared_by_person),
  CHECK ((ended_at IS NULL) = (ended_by IS NULL))
);
CREATE INDEX emergency_declarations_live ON emergency_declarations (planned_end_at) WHERE status = 'confirmed';

CREATE TABLE emergency_areas (
  declaration_id text COLLATE "C" NOT NULL REFERENCES emergency_declarations (id),
  kind text NOT NULL CHECK (kind IN ('area_code', 'prefecture', 'municipality')),
  area_code text COLLATE "C",
  prefecture text,
  city text,
  CHECK (CASE kind
    WHEN 'area_code' THEN area_code IS NOT NULL AND prefecture IS NULL AND city IS NULL
    WHEN 'prefecture' THEN area_code IS NULL AND prefecture IS NOT NULL AND city IS NULL
    ELSE area_code IS NULL AND prefecture IS NOT NULL AND city IS NOT NULL END)
);
CREATE INDEX emergency_areas_declaration ON emergency_areas (declaration_id);

-- Support staff registered in advance, with the outage-contact fields each may see during an emergency.
CREATE TABLE emergency_support_staff (
  id bigserial PRIMARY KEY,
  person_id text COLLATE "C" NOT NULL REFERENCES persons (id),
  fields text[] NOT NULL CHECK (cardinality(fields) > 0 AND fields <@ ARRAY['address', 'holder_name', 'phone']::text[]),
  note text,
  registered_by text COLLATE "C" NOT NULL,
  registered_by_person text COLLATE "C" NOT NULL,
  registered_at timestamptz NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  revoked_by text COLLATE "C",
  CHECK (valid_to IS NULL OR valid_to > valid_from),
  CHECK (registered_by_person <> person_id)
);
-- At most one registration in force per person at a time (revocation closes valid_to).
CREATE UNIQUE INDEX emergency_support_open ON emergency_support_staff (person_id) WHERE valid_to IS NULL;

-- Findings: something in the log that a person must look at (an emergency-support read outside a window
-- here; the anomaly rules of issue #7 add more). The rule id, severity, subject and evidence say why.
CREATE TABLE findings (
  id bigserial PRIMARY KEY,
  rule text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
  occurred_at timestamptz NOT NULL,
  detected_at timestamptz NOT NULL,
  source text NOT NULL CHECK (source IN ('live', 'analysis')),
  subject_person_id text COLLATE "C",
  subject_user_id text COLLATE "C",
  summary text NOT NULL,
  evidence jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved'))
);
CREATE INDEX findings_open ON findings (detected_at) WHERE status <> 'resolved';
CREATE INDEX findings_subject ON findings (subject_person_id);
