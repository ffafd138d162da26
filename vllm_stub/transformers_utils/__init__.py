"""Reading Hugging Face model folders."""
