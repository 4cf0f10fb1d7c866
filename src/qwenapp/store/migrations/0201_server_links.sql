-- The web app's chat box runs reports and decks from a conversation: a job remembers the
-- conversation it was started in and the message it follows (its card shows after that
-- message, on that branch). Deleting the conversation keeps the job (it stays in the
-- library page); the link becomes NULL.
ALTER TABLE server_jobs ADD COLUMN conversation_id TEXT
    REFERENCES conversations (id) ON DELETE SET NULL;
ALTER TABLE server_jobs ADD COLUMN after_message_id TEXT
    REFERENCES messages (id) ON DELETE SET NULL;
CREATE INDEX server_jobs_conversation ON server_jobs (conversation_id, id);

-- The passages a chat answer was given (from the documents attached to its turn), so its
-- [n] citations still open their source after a reload. JSON list of
-- {n, document_id, filename, location, text}.
CREATE TABLE server_message_sources (
    message_id TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    sources    TEXT NOT NULL
);
