-- The tool calls a chat answer made in the web app (each call's name, arguments, result,
-- whether it failed or was refused, and a started job's link), so a reload shows the
-- same steps the stream did. JSON list in call order; see qwenapp/server/wire.py.
-- Rows go when their message does.
CREATE TABLE server_message_tools (
    message_id TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    steps      TEXT NOT NULL
);
