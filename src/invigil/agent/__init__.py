"""The candidate's program: sources -> seal -> durable spool -> uploader -> tail -> stop.

It imports the protocol and the crypto, never server code (no database, no web framework).
"""
