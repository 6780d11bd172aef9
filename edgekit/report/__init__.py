"""Pictures and tables of results: confusion matrices now, model comparisons to come."""
