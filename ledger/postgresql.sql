-- The PostgreSQL store of record of an mlledger ledger, schema version 1
-- (src/pgstore.h; documented in ledger/POSTGRESQL.md).  Built into the
-- binary: ml_pg_create runs this text in one transaction, then records the
-- ledger's identity (origin, log_key, format) in mlledger_meta.
--
-- It holds bytes and decides nothing: every front-end rebuilds its SQLite
-- working copy from these rows and checks each one as `verify` does.
-- Entries and checkpoints are append-only (the triggers below); a test
-- that tampers with stored rows on purpose runs as a superuser with
-- session_replication_role = replica.

CREATE TABLE mlledger_meta (
  key text PRIMARY KEY,
  value text NOT NULL
);

-- The chain head: one row, locked FOR UPDATE by every write transaction,
-- which is how writers of the database are serialised.
CREATE TABLE mlledger_head (
  id integer PRIMARY KEY CHECK (id = 0),
  size bigint NOT NULL CHECK (size >= 0),
  last_leaf bytea NOT NULL CHECK (octet_length(last_leaf) = 32),
  last_time bigint NOT NULL
);

-- Entry seq: its append time (µs since the Unix epoch, UTC), the leaf hash
-- of entry seq-1 (zeros for seq 0), its own leaf hash and its DSSE
-- envelope (ledger/FORMAT.md, "Entries").
CREATE TABLE mlledger_entries (
  seq bigint PRIMARY KEY CHECK (seq >= 0),
  time_us bigint NOT NULL,
  prev bytea NOT NULL CHECK (octet_length(prev) = 32),
  leaf bytea NOT NULL CHECK (octet_length(leaf) = 32),
  envelope bytea NOT NULL CHECK (octet_length(envelope) BETWEEN 1 AND 1048576)
);

-- The signed checkpoint notes (C2SP signed-note), one per tree size.
CREATE TABLE mlledger_checkpoints (
  size bigint PRIMARY KEY CHECK (size >= 0),
  note text NOT NULL CHECK (octet_length(note) BETWEEN 1 AND 65536)
);

CREATE FUNCTION mlledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER mlledger_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
  ON mlledger_entries FOR EACH STATEMENT EXECUTE FUNCTION mlledger_append_only();
CREATE TRIGGER mlledger_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
  ON mlledger_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION mlledger_append_only();

INSERT INTO mlledger_head (id, size, last_leaf, last_time)
  VALUES (0, 0, decode(repeat('00', 32), 'hex'), 0);
INSERT INTO mlledger_meta (key, value) VALUES ('schema_version', '1');
