"""Contracts and vocabularies shared by every layer; no I/O."""
