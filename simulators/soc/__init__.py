"""Heterogeneous SoC simulators: static task-graph scheduling and a dynamic SoC simulator.

Static (``TaskGraph`` in, ``Schedule`` out)::

    from simulators.soc import read_graph, schedule, check_schedule
    g = read_graph("workloads/soc/graphs/topcuoglu2002_fig2.json")
    s = schedule(g, "heft")          # makespan 80
    check_schedule(g, s.proc, s.start, s.finish, s.makespan).valid

See ``docs/soc.md`` for the model, the definitions and the DS3 compatibility table.
"""

from simulators.soc.checker import CheckResult, check_schedule
from simulators.soc.errors import SocInputError
from simulators.soc.graph import SCHEMA, TaskGraph, read_graph, write_graph
from simulators.soc.schedule import Schedule, ScheduleBuilder
from simulators.soc.static import SCHEDULERS, schedule

__all__ = [
    "SCHEDULERS",
    "SCHEMA",
    "CheckResult",
    "Schedule",
    "ScheduleBuilder",
    "SocInputError",
    "TaskGraph",
    "check_schedule",
    "read_graph",
    "schedule",
    "write_graph",
]
