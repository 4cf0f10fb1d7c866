-- Who streams an answer (issue 12): several app processes share one database, and a
-- starting one must interrupt only the answers of processes that are gone, not those a
-- live one is streaming. Each app process has a row here and refreshes seen_at (seconds
-- since the epoch, the database's clock) every few seconds; a streaming message names
-- its process in owner. NULL owner: an answer saved before this migration or by
-- `qwenapp chat` (interrupted at an app process's start, as before).
ALTER TABLE messages ADD COLUMN owner TEXT;
CREATE TABLE stream_owners (
    id         TEXT PRIMARY KEY,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    started_at REAL NOT NULL,
    seen_at    REAL NOT NULL
);
CREATE INDEX messages_streaming ON messages (owner) WHERE status = 'streaming';
