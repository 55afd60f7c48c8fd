-- The schema of an mlledger ledger, format version 1 (ledger/FORMAT.md §7).
-- PRAGMA application_id = 1296845895 (0x4D4C4C47); PRAGMA user_version = 1;
-- journal_mode = WAL.  tests/unit/test_schema.c checks mlledger creates exactly this.

CREATE TABLE keys (
  keyid TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  vkey TEXT NOT NULL,
  roles TEXT NOT NULL,
  enrolled_seq INTEGER NOT NULL,
  revoked_seq INTEGER
) STRICT;
CREATE TABLE subjects (
  kind TEXT NOT NULL,
  ref TEXT NOT NULL,
  digest BLOB NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (kind, ref)
) STRICT, WITHOUT ROWID;
CREATE TABLE entry_index (
  seq INTEGER PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  keyid TEXT NOT NULL,
  stmt_hash BLOB NOT NULL,
  UNIQUE (keyid, stmt_hash)
) STRICT;
CREATE INDEX entry_index_subject ON entry_index (name, version);
CREATE INDEX entry_index_kind ON entry_index (name, kind);
CREATE TABLE meta (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE entries (
  seq INTEGER PRIMARY KEY NOT NULL,
  prev BLOB NOT NULL,
  appended_us INTEGER NOT NULL,
  envelope BLOB NOT NULL,
  leaf_hash BLOB NOT NULL
) STRICT;
CREATE TRIGGER entries_append_only_u BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER entries_append_only_d BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER entry_index_append_only_u BEFORE UPDATE ON entry_index
BEGIN SELECT RAISE(ABORT, 'entry_index is append-only'); END;
CREATE TRIGGER entry_index_append_only_d BEFORE DELETE ON entry_index
BEGIN SELECT RAISE(ABORT, 'entry_index is append-only'); END;
CREATE TABLE tree (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;
CREATE TABLE checkpoints (
  size INTEGER PRIMARY KEY NOT NULL,
  note TEXT NOT NULL
) STRICT;
CREATE TRIGGER tree_append_only_u BEFORE UPDATE ON tree
BEGIN SELECT RAISE(ABORT, 'tree is append-only'); END;
CREATE TRIGGER tree_append_only_d BEFORE DELETE ON tree
BEGIN SELECT RAISE(ABORT, 'tree is append-only'); END;
CREATE TRIGGER checkpoints_append_only_u BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_append_only_d BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TABLE idempotency_keys (
  keyid TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (keyid, idem_key)
) STRICT, WITHOUT ROWID;
