"""`hifilite train` command (registered on the shared app)."""
