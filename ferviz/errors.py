"""The one exception type that user-facing entry points turn into a clear message."""


class FervizError(Exception):
    """Bad input or a request ferviz cannot honour; the message is shown to the user as is."""


def shown(path: object) -> str:
    """A path or name as text that can always be printed: bytes that are not UTF-8 (kept by
    Python as lone surrogates in file names) appear as ``\\xNN`` escapes."""
    text = str(path)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # surrogates that did not come from a file name
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
