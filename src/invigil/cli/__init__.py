"""The `invigil` command."""
