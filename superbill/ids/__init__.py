"""Identifier checks, one small module per identifier, in python-stdnum's shape.

Each module offers ``compact(s)`` (strip formatting), ``validate(s)`` (return the compact form or
raise ``InvalidIdentifier`` with a short reason), ``is_valid(s)`` and ``format(s)`` (display form).
"""


class InvalidIdentifier(ValueError):
    """The value is not a valid identifier of its kind; the message says why, in a few words."""
