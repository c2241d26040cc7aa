"""The append-only access log: who read which candidate data, and when."""
