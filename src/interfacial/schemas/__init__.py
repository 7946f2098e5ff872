"""Pydantic output documents. Miller indices are lists, never tuples (MongoDB-safe)."""
