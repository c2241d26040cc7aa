"""Retention beyond the sealed evidence: legal holds, the records that are not evidence (flags and
decisions, identity data), and the deletion certificate that shows what was destroyed and when.
Crypto-shredding of evidence itself lives in evidence/shredding.py and respects holds."""
