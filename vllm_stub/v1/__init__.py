"""vLLM's v1 engine namespace: the pieces model files and layers import."""
