"""Errors raised by parsers for input they cannot use."""


class ParseError(ValueError):
    """A file cannot be turned into passages; the message says why, for the skip report."""
