"""Pooling batch metadata, as vLLM's ``v1/pool``."""
