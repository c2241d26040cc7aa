"""Flags: detections from the agent and the worker, merged into episodes by the exam's rules."""
