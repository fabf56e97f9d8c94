"""The one exception type that user-facing entry points turn into a clear message."""


class FervizError(Exception):
    """Bad input or a request ferviz cannot honour; the message is shown to the user as is."""


class Cancelled(Exception):
    """Work stopped because the person asked (a Cancel button); nothing was kept."""


def user_code_errors() -> tuple[type[BaseException], ...]:
    """What code a user gave ferviz (an architecture file, a trusted pickle, a network's
    forward) may raise that is reported as that code's failure: any Exception, SystemExit,
    and KeyboardInterrupt where Ctrl-C does not raise it (the ``ferviz`` command routes Ctrl-C
    to an exception of its own, so there a KeyboardInterrupt came from the code). Where Ctrl-C
    raises KeyboardInterrupt (a notebook, a script), it is the person's and passes through.

    Use as ``except user_code_errors() as e:``.
    """
    import signal

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        return Exception, SystemExit
    return Exception, SystemExit, KeyboardInterrupt


def regular_file(path: object, what: str = "file") -> None:
    """Refuse a path that exists but is neither a regular file nor a folder (a fifo, a device
    such as /dev/zero, a socket): reading it would hang or never end.

    Raises:
        FervizError: naming the path.
    """
    import os
    import stat

    try:
        mode = os.stat(str(path)).st_mode
    except OSError:
        return  # missing or unreadable: the caller's own message says which
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise FervizError(f"{shown(path)}: not a regular {what} (a fifo, a device or a socket)")


def shown(path: object) -> str:
    """A path or name as text that can always be printed: bytes that are not UTF-8 (kept by
    Python as lone surrogates in file names) appear as ``\\xNN`` escapes."""
    text = str(path)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # surrogates that did not come from a file name
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
