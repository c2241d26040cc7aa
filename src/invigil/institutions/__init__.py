"""Institutions: the universities that run Invigil and hold its keys."""
