"""The application layer: the ``archgym`` command, sweeps, reports, data collection, replay
and the ``simulate`` sub-commands.

It sits above ``agents`` (the only part of ``archgym`` that may import it); everything below
(the gym, its environments, simulators) never imports this package. The layers are checked
by import-linter contracts (``pyproject.toml``, run in CI).
"""
