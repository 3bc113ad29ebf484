"""A user's own echoseg extension package (the worked example of docs/extending.md)."""
