"""Bulk structures, slabs and (later) interface models."""
