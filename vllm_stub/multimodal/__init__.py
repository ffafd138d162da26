"""Multimodal prompts: images to pixel values, placeholders to image tokens."""
