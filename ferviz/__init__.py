"""ferviz: interpretability and error analysis for facial expression recognition models."""

__version__ = "0.1.0"
