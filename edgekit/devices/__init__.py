"""The boards of devices.yaml: their model, loading, and `edgekit devices check`."""
