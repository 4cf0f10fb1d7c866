-- The HTTP server (qwenapp.server): accounts, sessions, API keys, who owns what, and jobs.
-- Numbered 0200 so it never collides with the conversation store (0001) or the library
-- and reports (0100). The core tables have no owner concept; ownership lives here, in
-- side tables joined by the server's own queries. A row without an owner belongs to the
-- single local user (loopback mode without accounts); with accounts, it is nobody's.

CREATE TABLE server_users (
    id            TEXT PRIMARY KEY,               -- ULID
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,                  -- argon2id, PHC string
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- A browser session: the cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE server_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES server_users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,                     -- sent back in X-CSRF-Token on writes
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX server_sessions_user ON server_sessions (user_id);

-- API keys for programs (Authorization: Bearer). Only the SHA-256 of a key is stored:
-- keys are 256-bit random strings, so a slow hash adds nothing.
CREATE TABLE server_api_keys (
    id           TEXT PRIMARY KEY,                -- ULID
    user_id      TEXT NOT NULL REFERENCES server_users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,                   -- first characters, to tell keys apart
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX server_api_keys_user ON server_api_keys (user_id);

-- user_id is a server_users id, or 'local' for the single-user loopback mode.
CREATE TABLE conversation_owners (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL
);
CREATE INDEX conversation_owners_user ON conversation_owners (user_id);

-- Uploaded documents: the library row plus who uploaded it and the name they gave it
-- (display only: the stored file is named by the server).
CREATE TABLE document_owners (
    document_id TEXT PRIMARY KEY REFERENCES library_documents (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    filename    TEXT NOT NULL,
    stored_name TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX document_owners_user ON document_owners (user_id);

-- Reports and decks run as persisted jobs; progress events are kept so a client can
-- reconnect and resume the stream (SSE Last-Event-ID is the event's seq).
CREATE TABLE server_jobs (
    id          TEXT PRIMARY KEY,                 -- ULID
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,                    -- report, deck, ...
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed',
                                                 'cancelled')),
    title       TEXT NOT NULL DEFAULT '',
    request     TEXT NOT NULL,                    -- JSON: what the job was created with
    state       TEXT NOT NULL DEFAULT '{}',       -- JSON: what a resumed run needs
    error       TEXT,                             -- why it failed, in words
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX server_jobs_user ON server_jobs (user_id, id);
CREATE INDEX server_jobs_status ON server_jobs (status);

CREATE TABLE server_job_events (
    job_id     TEXT NOT NULL REFERENCES server_jobs (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    type       TEXT NOT NULL,
    data       TEXT NOT NULL,                     -- JSON
    created_at TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE server_job_artifacts (
    job_id     TEXT NOT NULL REFERENCES server_jobs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,                     -- chosen by the server: report.md, slide-1.png
    media_type TEXT NOT NULL,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (job_id, name)
);
