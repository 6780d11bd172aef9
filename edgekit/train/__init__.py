"""Training: the classifier around a zoo backbone, the fit loop and the test-split scores."""
