"""MCP (Model Context Protocol): other servers' tools in qwenapp, and qwenapp as a server.

:mod:`.client` turns configured MCP servers (stdio commands, streamable-HTTP
URLs) into tools of a :class:`~qwenapp.tools.ToolBox`; :mod:`.server` is
``qwenapp mcp``, which offers qwenapp's own library search (and reports and
decks) to other agents.
"""
