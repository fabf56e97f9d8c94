"""Analyses of a predictions table: pure pandas / numpy / scikit-learn, never torch."""
