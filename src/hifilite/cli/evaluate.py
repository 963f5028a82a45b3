"""`hifilite evaluate` command (registered on the shared app)."""
