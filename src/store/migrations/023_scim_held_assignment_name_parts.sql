-- SCIM: two things HR states that the store had nowhere to keep (issue 19, found by an audit of the SCIM
-- work). docs/identity.md ("What a SCIM User is") says why each is so.

-- 1. The assignment HR states for a person who is not active: a User Entra ID or Okta creates disabled (and
--    enables a moment later), or a leaver HR moves before re-enabling. It is not in force — the person reads
--    nothing — so it is not a staff assignment: staff_assignments holds periods in force, and a period that is
--    in force for no instant is one the domain refuses (`empty_period`, domain/organization.ts). It is held
--    here, checked against the organization rules when stated, shown in the User's Assignment extension
--    (`inForce: false`), and placed — checked again — when HR sets `active: true`, which clears it. Only a
--    person who is not active holds one.
ALTER TABLE persons ADD COLUMN scim_assignment_held jsonb;
ALTER TABLE persons ADD CONSTRAINT persons_held_assignment_inactive
  CHECK (scim_assignment_held IS NULL OR (NOT active AND jsonb_typeof(scim_assignment_held) = 'object'));

-- 2. The parts of the name HR sends (SCIM `name.familyName`, `name.givenName`): kept so that an update that
--    changes only a part rebuilds the name gridwall shows (`familyName givenName`, as on a create) instead of
--    keeping the old one. NULL: not sent (people from before this migration, or made without the parts).
ALTER TABLE persons ADD COLUMN family_name text, ADD COLUMN given_name text;
