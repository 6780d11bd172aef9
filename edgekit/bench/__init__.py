"""`edgekit bench`: run exported models on devices, locally or over SSH, and collect results."""
