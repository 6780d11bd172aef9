"""The `edgekit` command line; heavy libraries are imported inside the commands that use them."""
