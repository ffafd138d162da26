"""Fused kernels vLLM picks per platform; on CPU none apply."""
