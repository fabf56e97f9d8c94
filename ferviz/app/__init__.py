"""The application layer: the use cases every view (CLI, report, dashboard, Python) shares.
Each takes specs and plain values, does the work, and returns what a view shows."""
