"""Video files: faces followed across frames, predicted and explained, with an annotated
video, a per-frame table, a timeline and a summary (``ferviz saliency clip.mp4``)."""

from .source import is_video

__all__ = ["is_video"]
