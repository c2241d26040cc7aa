"""Agent protocol v1: the one definition shared by the server and the agent (docs/protocol.md)."""
