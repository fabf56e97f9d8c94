"""Analyses of a predictions table: pure pandas / numpy / scipy, never torch."""
