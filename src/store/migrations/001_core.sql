-- Core schema: who people are, what they may act for, and the customer records behind the firewall.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL
);

CREATE TABLE retailers (
  code text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  affiliated boolean NOT NULL DEFAULT false
);
-- At most one affiliated retailer.
CREATE UNIQUE INDEX retailers_one_affiliated ON retailers (affiliated) WHERE affiliated;

CREATE TABLE organizations (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('network_operator', 'retailer', 'contractor')),
  retailer_code text COLLATE "C" REFERENCES retailers (code),
  CHECK ((kind = 'retailer') = (retailer_code IS NOT NULL))
);

CREATE TABLE persons (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL
);

-- Login IDs. Every account belongs to a person; a person may have several.
CREATE TABLE accounts (
  user_id text COLLATE "C" PRIMARY KEY,
  person_id text COLLATE "C" NOT NULL REFERENCES persons (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);
CREATE INDEX accounts_person ON accounts (person_id);

CREATE TABLE staff_assignments (
  id bigserial PRIMARY KEY,
  person_id text COLLATE "C" NOT NULL REFERENCES persons (id),
  organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
  employment text NOT NULL CHECK (employment IN ('employee', 'contractor')),
  side text NOT NULL CHECK (side IN ('network', 'retail', 'other_retailer')),
  retailer_code text COLLATE "C" REFERENCES retailers (code),
  office text NOT NULL,
  duty text NOT NULL CHECK (duty IN ('call_centre', 'service_centre', 'compliance', 'access_admin', 'retail_customer_service', 'retail_sales')),
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  CHECK ((side = 'network') = (retailer_code IS NULL)),
  CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX staff_assignments_person ON staff_assignments (person_id, valid_from);

CREATE TABLE terminals (
  id text COLLATE "C" PRIMARY KEY,
  organization_id text COLLATE "C" NOT NULL REFERENCES organizations (id),
  office text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('dedicated', 'virtual')),
  setting text NOT NULL CHECK (setting IN ('network', 'retail'))
);

CREATE TABLE supply_points (
  id text COLLATE "C" PRIMARY KEY CHECK (id ~ '^(0[1-9]|10)[0-9]{20}$'),
  area_code text COLLATE "C" NOT NULL CHECK (area_code = substr(id, 1, 2)),
  postal_code text NOT NULL,
  prefecture text NOT NULL,
  city text NOT NULL,
  town text NOT NULL,
  street text NOT NULL,
  building text,
  address_text text NOT NULL,
  meter_id text NOT NULL,
  reading_day smallint NOT NULL CHECK (reading_day BETWEEN 1 AND 31),
  equipment text[] NOT NULL DEFAULT '{}',
  usage_kwh integer[] NOT NULL DEFAULT '{}',
  usage_last_month date,
  network_notes text
);

CREATE TABLE customers (
  id text COLLATE "C" PRIMARY KEY,
  type text NOT NULL CHECK (type IN ('individual', 'corporate')),
  name text NOT NULL,
  name_kana text,
  phone text NOT NULL,
  phone_digits text COLLATE "C" NOT NULL
);
CREATE INDEX customers_phone ON customers (phone_digits);

CREATE TABLE contracts (
  id bigserial PRIMARY KEY,
  supply_point_id text COLLATE "C" NOT NULL REFERENCES supply_points (id),
  customer_id text COLLATE "C" NOT NULL REFERENCES customers (id),
  retailer_code text COLLATE "C" NOT NULL REFERENCES retailers (code),
  capacity numeric NOT NULL CHECK (capacity > 0),
  capacity_unit text NOT NULL CHECK (capacity_unit IN ('A', 'kVA', 'kW')),
  last_resort boolean NOT NULL DEFAULT false,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX contracts_supply_point ON contracts (supply_point_id, valid_from);
CREATE INDEX contracts_customer ON contracts (customer_id);
CREATE INDEX contracts_current_retailer ON contracts (retailer_code, supply_point_id) WHERE valid_to IS NULL;

-- Trigram indexes for address and name search (the demo loader drops and rebuilds them around bulk loads).
CREATE INDEX supply_points_address_trgm ON supply_points USING gin (address_text gin_trgm_ops);
CREATE INDEX customers_name_trgm ON customers USING gin (name gin_trgm_ops);

CREATE TABLE sessions (
  id text COLLATE "C" PRIMARY KEY,
  user_id text COLLATE "C" NOT NULL REFERENCES accounts (user_id),
  person_id text COLLATE "C" NOT NULL REFERENCES persons (id),
  terminal_id text COLLATE "C",
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ended_at timestamptz
);

-- Every read decided by the firewall: served, masked and refused alike. Append-only (see 002).
CREATE TABLE access_log (
  id bigserial PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  request_id text NOT NULL,
  person_id text COLLATE "C" NOT NULL,
  user_id text COLLATE "C",
  session_id text COLLATE "C",
  principal_class text NOT NULL,
  side text,
  organization_id text COLLATE "C",
  employment text,
  office text,
  terminal_id text COLLATE "C",
  route text NOT NULL,
  purpose text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('served', 'refused')),
  refusal text,
  query jsonb NOT NULL DEFAULT '{}',
  supply_point_ids text[] NOT NULL DEFAULT '{}',
  records jsonb NOT NULL DEFAULT '[]',
  policy_version text NOT NULL,
  emergency_id text
);
CREATE INDEX access_log_person_time ON access_log (person_id, occurred_at);
CREATE INDEX access_log_time ON access_log (occurred_at);
