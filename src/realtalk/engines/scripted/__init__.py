"""Deterministic engines for tests and for clients' CI: no model, same input, same output."""
