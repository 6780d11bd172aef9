"""Image-folder datasets: listing, decoding, auditing, splitting and the training input."""
