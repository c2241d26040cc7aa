"""Sealed evidence: upload, validation, storage, staff reads and export."""
