-- The document library and saved research reports (qwenapp.library, qwenapp.reports).
-- Numbered 0100 so it never collides with the conversation store's own migrations.

CREATE TABLE library_documents (
    id TEXT PRIMARY KEY,              -- ULID
    path TEXT NOT NULL UNIQUE,        -- absolute path of the file when it was added
    title TEXT NOT NULL,
    kind TEXT NOT NULL,               -- pdf, docx, pptx, xlsx, csv, markdown, html, text
    sha256 TEXT NOT NULL,             -- content hash: re-adding an unchanged file is a no-op
    size INTEGER NOT NULL,
    sections INTEGER NOT NULL,        -- pages, slides, sheets or headed sections read
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX library_documents_sha256 ON library_documents (sha256);

CREATE TABLE library_chunks (
    id INTEGER PRIMARY KEY,           -- also the rowid of library_fts
    document_id TEXT NOT NULL REFERENCES library_documents (id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    location TEXT NOT NULL,           -- "page 3", "slide 2", "sheet Sales", "Intro > Setup"
    text TEXT NOT NULL,
    embedding BLOB,                   -- float32 vector, when embeddings were computed
    embedding_model TEXT
);
CREATE INDEX library_chunks_document ON library_chunks (document_id, ord);

-- body: the chunk text with CJK runs written as overlapping bigrams, so Chinese and
-- Japanese are searchable word-free; filled by qwenapp.library (not by a trigger),
-- since the bigram form is computed in Python.
CREATE VIRTUAL TABLE library_fts USING fts5 (
    body, title, tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER library_chunks_after_delete AFTER DELETE ON library_chunks BEGIN
    DELETE FROM library_fts WHERE rowid = old.id;
END;

CREATE TABLE reports (
    id TEXT PRIMARY KEY,              -- ULID
    question TEXT NOT NULL,
    request TEXT NOT NULL,            -- JSON: the options the run was started with
    status TEXT NOT NULL,             -- running, done, failed
    title TEXT,
    model TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One row per finished stage (plan, gather, section:N, report): a resumed run skips them.
CREATE TABLE report_stages (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    data TEXT NOT NULL,               -- JSON of the stage's typed result
    created_at TEXT NOT NULL,
    PRIMARY KEY (report_id, stage)
);
