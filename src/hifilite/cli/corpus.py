"""`hifilite corpus` command (registered on the shared app)."""
