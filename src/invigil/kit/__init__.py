"""Generic building blocks with no knowledge of the web framework or of any one domain."""
