"""The one exception the accelerator simulator raises for input a user can fix."""


class AccelInputError(ValueError):
    """Bad topology, config or design input; the message names the file, line and field
    (or the argument) and what is allowed."""
