"""`hifilite demo` command (registered on the shared app)."""
