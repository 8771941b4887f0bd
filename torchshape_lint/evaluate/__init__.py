"""A bounded evaluator over the Python subset that model code uses."""
