"""Running the model on batches."""
