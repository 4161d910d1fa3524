-- Address search at a national operator's scale (issue 21): results in address order — the address read from
-- the city (city, town, street, building), then the supply point ID — over one B-tree in that order, so a term
-- that begins an address (仙台市青葉区…, or 宮城県仙台市青葉区… with the prefecture) reads one page of the index
-- and stops, however many supply points it matches. Before, `ILIKE '%term%' ORDER BY id` fetched every match
-- through the trigram index and sorted them, or walked the primary key past whole cities (IDs are grouped by
-- city): 0.6 s for 仙台市青葉区 at 1 M, growing with the area. Terms found inside addresses still use the
-- trigram index (001). The expression is repeated exactly in store/customer-store.ts (ADDRESS_KEY), and in C
-- order, so that LIKE 'prefix%' is a range of the index and the order does not depend on the server's locale.
CREATE INDEX supply_points_address_order
  ON supply_points (((city || town || street || coalesce(' ' || building, '')) COLLATE "C"), id);
