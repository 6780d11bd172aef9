"""Pictures and tables of results: confusion matrices, and the comparison of trained models."""
