-- Several writers on one chain (issue 21: server processes on one PostgreSQL). A writer links its batch after
-- the head it has accounted for and appends in one statement; when another writer moved the head first, it
-- accounted for the new events and tried again — and under steady load from four processes a batch could lose
-- that race twenty times in a row and be refused. Now a writer that lost once takes the head: the head row
-- locked for its transaction, so nobody moves it while this writer accounts for what is new and appends after
-- it (the others' one-statement appends wait on the row, then find it moved and take it in turn). The lock
-- is the row's own (FOR UPDATE), so the application role needs no right to update the head.
CREATE FUNCTION access_log_take_head() RETURNS TABLE (head_seq bigint, head_hash text)
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT access_log_head.seq, access_log_head.hash FROM access_log_head WHERE id = 1 FOR UPDATE
$$;
REVOKE EXECUTE ON FUNCTION access_log_take_head() FROM PUBLIC;
