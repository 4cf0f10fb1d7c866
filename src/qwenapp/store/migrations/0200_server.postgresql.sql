-- PostgreSQL's form of 0200_server.sql: the same tables and columns. Usernames are
-- citext (case-insensitive, as COLLATE NOCASE is in SQLite): 'Alice' and 'alice' are one
-- account, and `WHERE username = ?` finds either spelling. Sizes and event numbers are
-- BIGINT (SQLite's INTEGER is 64-bit).

CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE server_users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    username      CITEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE server_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES server_users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX server_sessions_user ON server_sessions (user_id);

CREATE TABLE server_api_keys (
    id           TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES server_users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX server_api_keys_user ON server_api_keys (user_id);

CREATE TABLE conversation_owners (
    conversation_id TEXT COLLATE "C" PRIMARY KEY
                    REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT COLLATE "C" NOT NULL
);
CREATE INDEX conversation_owners_user ON conversation_owners (user_id);

CREATE TABLE document_owners (
    document_id TEXT COLLATE "C" PRIMARY KEY
                REFERENCES library_documents (id) ON DELETE CASCADE,
    user_id     TEXT COLLATE "C" NOT NULL,
    filename    TEXT NOT NULL,
    stored_name TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX document_owners_user ON document_owners (user_id);

CREATE TABLE server_jobs (
    id          TEXT COLLATE "C" PRIMARY KEY,
    user_id     TEXT COLLATE "C" NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed',
                                                 'cancelled')),
    title       TEXT NOT NULL DEFAULT '',
    request     TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT '{}',
    error       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX server_jobs_user ON server_jobs (user_id, id);
CREATE INDEX server_jobs_status ON server_jobs (status);

CREATE TABLE server_job_events (
    job_id     TEXT COLLATE "C" NOT NULL REFERENCES server_jobs (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    type       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE server_job_artifacts (
    job_id     TEXT COLLATE "C" NOT NULL REFERENCES server_jobs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (job_id, name)
);
