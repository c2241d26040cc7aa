"""Exam sessions: the agent-facing protocol and the session state machine."""
