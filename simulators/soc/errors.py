"""The one exception users of the SoC simulators can act on."""


class SocInputError(ValueError):
    """Bad input (a task graph, a SoC description, a DS3 file, a schedule request).

    The message names the file (when there is one), the field or line, and what is allowed.
    """
