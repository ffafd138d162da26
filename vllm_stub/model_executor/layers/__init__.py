"""Layers with vLLM's names and signatures, implemented for one rank in torch."""
