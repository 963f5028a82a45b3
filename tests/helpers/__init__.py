"""Plain helpers that test modules import (`from tests.helpers.<module> import ...`): corpus and
signal builders, and the reference outputs of the shipped models. No tests here."""
