"""The one exception type for bad input; every module below the CLI raises it."""


class DartError(Exception):
    """Bad input or config. The message names the file and the row or key at fault."""
