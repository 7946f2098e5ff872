"""Pydantic output documents. Miller indices are lists (MongoDB rejects tuple keys/values as keys)."""
