"""Invigil: privacy-by-design proctoring for digital exams."""

__version__ = "0.1.0"
