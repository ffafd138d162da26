"""Model execution: layers, model files and weight loading."""
