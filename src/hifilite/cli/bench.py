"""`hifilite bench` command (registered on the shared app)."""
