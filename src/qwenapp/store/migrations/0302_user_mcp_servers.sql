-- MCP servers a user of the web app added for themselves (issue 11), beside the server-wide
-- ones of the config file. Either url (streamable HTTP, for anyone) or command (stdio, for an
-- administrator only: it runs a program on the server). headers and args are JSON (a header
-- value may be a token: it is never sent back to the page, only its name).
-- Portable SQL on purpose: the same file is applied on SQLite and PostgreSQL.
-- user_id is a server_users id, or 'local' for the single-user loopback mode (so no foreign key).
CREATE TABLE server_user_mcp_servers (
    user_id    TEXT NOT NULL,
    name       TEXT NOT NULL,
    url        TEXT,
    headers    TEXT NOT NULL DEFAULT '{}',
    command    TEXT,
    args       TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
);
