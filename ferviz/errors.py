"""The one exception type that user-facing entry points turn into a clear message."""


class FervizError(Exception):
    """Bad input or a request ferviz cannot honour; the message is shown to the user as is."""
