"""Everything edgekit writes to or reads from MLflow lives in this package."""
