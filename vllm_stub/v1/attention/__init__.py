"""Attention backends: here only the shared ``AttentionType`` names."""
