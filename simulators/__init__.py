"""Event-driven simulators and cost models: a function call in, a result dataclass out.

This layer imports only numpy/scipy/simpy (never gymnasium or ``agents``), so a simulator
can be used on its own from a script or a notebook.
"""
