"""edgekit: choose and ship an image classifier to an edge board."""

__version__ = "0.1.0"
