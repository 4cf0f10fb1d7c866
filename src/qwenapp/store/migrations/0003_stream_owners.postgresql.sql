-- Who streams an answer (issue 12); see 0003_stream_owners.sql. PostgreSQL's REAL is a
-- 4-byte float (seconds since the epoch would lose minutes), hence DOUBLE PRECISION.
ALTER TABLE messages ADD COLUMN owner TEXT;
CREATE TABLE stream_owners (
    id         TEXT PRIMARY KEY,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    seen_at    DOUBLE PRECISION NOT NULL
);
CREATE INDEX messages_streaming ON messages (owner) WHERE status = 'streaming';
