-- Every version of a deck (issue 13: revise a deck by asking). Version 1 is the deck as
-- first made; each revision or restore adds the next number, so nothing is ever lost.
-- job_id is the server's deck job (rows go with the job: delete_jobs removes every table
-- with a job_id column) or, for a deck made by the CLI, the deck's own id. owner is the
-- server user who owns the job, or 'cli'. The deck is stored as data (Deck JSON) with its
-- theme: any version's .pptx is rendered from them, with no model call.
CREATE TABLE deck_versions (
    job_id     TEXT NOT NULL,
    version    INTEGER NOT NULL,
    owner      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    request    TEXT NOT NULL DEFAULT '',
    summary    TEXT NOT NULL DEFAULT '',
    theme      TEXT NOT NULL,
    changed    TEXT NOT NULL DEFAULT '[]',
    deck       TEXT NOT NULL,
    path       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, version)
);
CREATE INDEX deck_versions_owner ON deck_versions (owner, job_id);
