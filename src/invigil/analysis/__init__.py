"""Automated analysis: detectors that turn evidence and events into detections, and the exam's rules
that turn detections into flags. Software flags; people decide (DESIGN.md §6, issue 4)."""
