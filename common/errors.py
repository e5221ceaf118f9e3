"""The base class of errors a user can fix (see `common.cli`)."""


class UserError(Exception):
    """An error the user can fix without changing the code; its message says how."""
