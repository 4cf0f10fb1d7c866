-- Conversations and their messages, with full-text search.
--
-- Ids are ULIDs (text). Each table also has an integer `seq`: SQLite keeps an
-- INTEGER PRIMARY KEY stable across VACUUM (a plain rowid is not), so the
-- full-text tables can point at rows through it, and it orders rows created
-- in the same instant. Timestamps are ISO-8601 UTC text of fixed width, so
-- they sort as strings.
--
-- Messages form a tree: `parent_id` links each message to the one it answers
-- or follows; regenerating an answer or editing a question adds a sibling.

CREATE TABLE conversations (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    title         TEXT,
    model         TEXT NOT NULL,
    system_prompt TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE INDEX conversations_by_updated ON conversations (updated_at, seq);

CREATE TABLE messages (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    conversation_id   TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    parent_id         TEXT REFERENCES messages (id) ON DELETE CASCADE,
    role              TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content           TEXT NOT NULL DEFAULT '',
    reasoning         TEXT NOT NULL DEFAULT '',
    model             TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    finish_reason     TEXT,
    status            TEXT NOT NULL DEFAULT 'complete'
                      CHECK (status IN ('complete', 'interrupted', 'error', 'streaming')),
    created_at        TEXT NOT NULL
);

CREATE INDEX messages_by_conversation ON messages (conversation_id, seq);
CREATE INDEX messages_by_parent ON messages (parent_id, seq);

-- Search. The trigram tokenizer matches any substring of three or more
-- characters, so Chinese and Japanese text (no spaces between words) is
-- searchable; the default unicode61 tokenizer would treat a whole CJK
-- sentence as one token. Shorter terms are matched without the index by
-- qwenapp/store/search.py, the only code that reads these tables.

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, content = 'messages', content_rowid = 'seq', tokenize = 'trigram'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.seq, old.content);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.seq, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;

CREATE VIRTUAL TABLE conversations_fts USING fts5 (
    title, content = 'conversations', content_rowid = 'seq', tokenize = 'trigram'
);

CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversations_fts (rowid, title) VALUES (new.seq, coalesce(new.title, ''));
END;

CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, title)
        VALUES ('delete', old.seq, coalesce(old.title, ''));
END;

CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, title)
        VALUES ('delete', old.seq, coalesce(old.title, ''));
    INSERT INTO conversations_fts (rowid, title) VALUES (new.seq, coalesce(new.title, ''));
END;
