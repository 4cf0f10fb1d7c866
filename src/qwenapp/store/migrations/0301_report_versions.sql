-- The versions of a report revised by asking (issue 13). Each revision is a report of its
-- own (reports table); this chains them: chain_id is the first version's report id,
-- version counts from 1 (the report as first written), report_id is that version.
-- Going back to an old version adds it again as the newest, so the history only grows.
CREATE TABLE report_versions (
    chain_id   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    report_id  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    request    TEXT NOT NULL DEFAULT '',
    summary    TEXT NOT NULL DEFAULT '',
    changed    TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (chain_id, version)
);
CREATE INDEX report_versions_report ON report_versions (report_id);
