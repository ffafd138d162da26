"""Compilation hooks (vLLM compiles models; this engine runs them eagerly)."""
