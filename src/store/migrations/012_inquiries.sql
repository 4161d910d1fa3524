-- Inquiries to the network operator (照会, issue 18): the lawful way for a retailer to learn a non-public item
-- of a supply point that is not its customer's, with the customer's consent kept as evidence. The answer
-- itself is never stored here: the firewall serves it each time it is read (logged, purpose inquiry_answer),
-- from what the case allows with that consent at once and what the service centre released from its queue.
CREATE SEQUENCE inquiry_no;
CREATE TABLE inquiries (
  id text COLLATE "C" PRIMARY KEY,
  case_type text NOT NULL CHECK (case_type IN ('switching', 'move_in', 'construction', 'outage_contact', 'other')),
  supply_point_id text COLLATE "C" NOT NULL,
  items text[] NOT NULL CHECK (cardinality(items) > 0),
  -- Who asks: a retailer (a person or its system), or a customer or contractor through the network side.
  channel text NOT NULL CHECK (channel IN ('retailer', 'customer', 'contractor')),
  retailer_code text COLLATE "C",
  requested_by text COLLATE "C",
  requested_by_person text COLLATE "C" NOT NULL,
  -- A customer's or contractor's inquiry taken by the service centre: who called and how they were identified.
  caller text,
  identity_check text CHECK (identity_check IS NULL OR identity_check IN ('bill_details', 'id_document', 'callback')),
  -- The customer's consent as given (evidence); consent_state is what it was found to be when asked.
  consent_customer_name text,
  consent_method text CHECK (consent_method IS NULL OR consent_method IN ('signed_form', 'recorded_call', 'web')),
  consent_given_at timestamptz,
  consent_reference text,
  consent_valid_until timestamptz,
  consent_state text NOT NULL CHECK (consent_state IN ('none', 'valid', 'refused')),
  -- How the asked items were sorted when asked, and what the service centre has released since.
  at_once text[] NOT NULL DEFAULT '{}',
  queued text[] NOT NULL DEFAULT '{}',
  never text[] NOT NULL DEFAULT '{}',
  released text[] NOT NULL DEFAULT '{}',
  status text NOT NULL CHECK (status IN ('answered', 'open', 'asked_back', 'refused', 'withdrawn')),
  note text,
  created_at timestamptz NOT NULL,
  due_at timestamptz,
  -- Time spent waiting on the requester (asked back), which the service level does not count.
  waiting_ms bigint NOT NULL DEFAULT 0,
  asked_back_at timestamptz,
  closed_at timestamptz,
  closed_by text COLLATE "C",
  closed_by_person text COLLATE "C",
  refusal_code text,
  refusal_reason text,
  batch_id text COLLATE "C",
  CHECK ((channel = 'retailer') = (retailer_code IS NOT NULL)),
  CHECK ((channel = 'retailer') = (identity_check IS NULL)),
  CHECK ((consent_customer_name IS NULL) = (consent_method IS NULL)),
  CHECK ((status IN ('answered', 'refused', 'withdrawn')) = (closed_at IS NOT NULL)),
  CHECK ((status = 'refused') = (refusal_code IS NOT NULL)),
  -- The service centre's answer never goes beyond the queue the case allowed (the firewall checks it again).
  CHECK (released <@ queued),
  -- Nobody answers their own retailer's inquiry (a customer's, taken by the service centre, its taker may answer).
  CHECK (channel <> 'retailer' OR closed_by_person IS NULL OR status = 'withdrawn' OR closed_by_person <> requested_by_person)
);
CREATE INDEX inquiries_queue ON inquiries (due_at) WHERE status IN ('open', 'asked_back');
CREATE INDEX inquiries_requester ON inquiries (requested_by_person, created_at DESC);
CREATE INDEX inquiries_retailer ON inquiries (retailer_code, created_at DESC);
CREATE INDEX inquiries_created ON inquiries (created_at);

-- What happened to an inquiry, in order: asked, answered at once, asked back, replied, answered, refused.
CREATE TABLE inquiry_events (
  id bigserial PRIMARY KEY,
  inquiry_id text COLLATE "C" NOT NULL REFERENCES inquiries (id),
  at timestamptz NOT NULL,
  kind text NOT NULL CHECK (kind IN ('asked', 'answered_at_once', 'asked_back', 'replied', 'answered', 'refused', 'withdrawn')),
  by_user text COLLATE "C",
  by_person text COLLATE "C",
  items text[] NOT NULL DEFAULT '{}',
  note text
);
CREATE INDEX inquiry_events_inquiry ON inquiry_events (inquiry_id, id);

-- Where a person's notifications are mailed, when SMTP is configured (SCIM's work e-mail, or set by an administrator).
ALTER TABLE persons ADD COLUMN email text;

-- In-app notifications (and the e-mail sent for each, when SMTP is configured).
CREATE TABLE notifications (
  id bigserial PRIMARY KEY,
  person_id text COLLATE "C" NOT NULL,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  subject_type text NOT NULL,
  subject_id text COLLATE "C" NOT NULL,
  text_ja text NOT NULL,
  text_en text NOT NULL,
  read_at timestamptz,
  mailed_at timestamptz,
  mail_error text
);
CREATE INDEX notifications_person ON notifications (person_id, id DESC);
