"""The one exception family users catch: anything a user can fix by changing their input."""


class ArchGymError(Exception):
    """Bad input or an impossible request; the message says what to change."""
