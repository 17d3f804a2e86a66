"""Memory-controller configurations: DRAMGym's DRAMSys knobs and DRAMsim3's controller.

Two controllers share one JEDEC timing model (``timing.py``) and one event-driven style (time
jumps to the next cycle at which something can happen; the loops are numba-compiled):

- :class:`Dramsim3Like` (preset ``"dramsim3_like"``): DRAMsim3's controller with its own
  options, under DRAMsim3's names (``engine_dramsim3.py``); checked against DRAMsim3 runs;
- :class:`ControllerConfig`: the ten DRAMSys controller knobs that ArchGym's DRAMGym
  exposes, with their exact value sets (``KNOBS``), each modelled after what it does in
  DRAMSys (``engine_dramsys.py``). :data:`DEFAULTS` is DRAMSys' example configuration, the
  one source of defaults for ``simulate`` and DRAM-v0.

Sources: M. Jung et al. / L. Steiner et al., "DRAMSys4.0: A Fast and Cycle-Accurate
SystemC/TLM-Based DRAM Simulator", SAMOS 2020 and IJPP 2022; S. Krishnan et al., "ArchGym: An
Open-Source Gymnasium for Machine Learning Assisted Architecture Design", ISCA 2023 (DRAMGym
parameter space); S. Li et al., "DRAMsim3", IEEE CAL 2020, and its source (commit 29817593:
``configuration.cc`` for the option names and defaults).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any

_POW2 = (1, 2, 4, 8, 16, 32, 64, 128)

#: DRAMGym's controller knobs (ArchGym, ISCA 2023): name -> allowed values, in order.
KNOBS: dict[str, tuple] = {
    "PagePolicy": ("Open", "OpenAdaptive", "Closed", "ClosedAdaptive"),
    "Scheduler": ("Fifo", "FrFcfsGrp", "FrFcfs"),
    "SchedulerBuffer": ("Bankwise", "ReadWrite", "Shared"),
    "RequestBufferSize": _POW2,
    "RespQueue": ("Fifo", "Reorder"),
    "RefreshPolicy": ("NoRefresh", "AllBank"),
    "RefreshMaxPostponed": (1, 2, 4, 8),
    "RefreshMaxPulledin": (1, 2, 4, 8),
    "Arbiter": ("Simple", "Fifo", "Reorder"),
    "MaxActiveTransactions": _POW2,
}

NUM_CONFIGS = math.prod(len(v) for v in KNOBS.values())  # 442,368

#: DRAMSys' example controller configuration (``configs/mcconfig/fr_fcfs.json`` of DRAMSys
#: v5.1, the file its DDR4 example uses) over DRAMGym's ten knobs. DRAMSys sets
#: RefreshMaxPostponed = RefreshMaxPulledin = 0, outside DRAMGym's value set (1, 2, 4, 8):
#: the nearest DRAMGym value, 1, stands in (``ControllerConfig`` accepts 0 too, for DRAMSys'
#: own files). ``simulate`` and DRAM-v0 both start from it.
DEFAULTS: dict[str, Any] = {
    "PagePolicy": "Open", "Scheduler": "FrFcfs", "SchedulerBuffer": "Bankwise",
    "RequestBufferSize": 8, "RespQueue": "Fifo", "RefreshPolicy": "AllBank",
    "RefreshMaxPostponed": 1, "RefreshMaxPulledin": 1, "Arbiter": "Simple",
    "MaxActiveTransactions": 128,
}


#: integer knobs: the range DRAMSys accepts (refresh flexibility capped at JEDEC's 8)
INT_KNOBS: dict[str, tuple[int, int]] = {
    "RequestBufferSize": (1, 1 << 20),
    "RefreshMaxPostponed": (0, 8),
    "RefreshMaxPulledin": (0, 8),
    "MaxActiveTransactions": (1, 1 << 20),
}


@dataclass(frozen=True)
class ControllerConfig:
    """The DRAMSys controller knobs of ArchGym's DRAMGym, with DRAMSys v5.1 semantics.

    ``KNOBS`` lists DRAMGym's value sets (the design space); the integer knobs accept any
    value DRAMSys does (RequestBufferSize and MaxActiveTransactions >= 1, RefreshMaxPostponed
    and RefreshMaxPulledin 0..8, JEDEC's limit), so DRAMSys's own configurations load too.
    Defaults are :data:`DEFAULTS`. See ``engine_dramsys`` for the model; in short:

    PagePolicy
        ``Open`` keeps a row open until a request to another row needs the bank;
        ``OpenAdaptive`` auto-precharges after an access when requests to the bank are queued
        and none hits the row; ``Closed`` after every access; ``ClosedAdaptive`` unless a
        queued request hits the row. Auto-precharge (RDA/WRA) needs no command-bus slot and
        respects tRAS (JEDEC).
    Scheduler
        Per bank: ``Fifo`` serves the oldest request; ``FrFcfs`` row hits first, then the
        oldest; ``FrFcfsGrp`` prefers hits of the same direction as the last RD/WR.
    SchedulerBuffer, RequestBufferSize
        ``Bankwise``: RequestBufferSize requests per bank; ``ReadWrite``: RequestBufferSize
        reads and as many writes (DRAMSys v5.1's RequestBufferSizeRead/Write); ``Shared``:
        RequestBufferSize in all. A request waits at the controller's door until there is room.
    RespQueue
        ``Fifo`` returns responses in RD/WR issue order; ``Reorder`` in request order.
    RefreshPolicy, RefreshMaxPostponed, RefreshMaxPulledin
        ``AllBank``: all-bank REF per rank every tREFI (ranks staggered), postponed while
        the rank has queued requests (up to RefreshMaxPostponed, then forced) and pulled in
        while it is idle (up to RefreshMaxPulledin ahead); ``NoRefresh`` issues none.
    Arbiter, MaxActiveTransactions
        ``Simple`` passes one request at a time from the requester to the controller;
        ``Fifo`` buffers up to MaxActiveTransactions outstanding transactions (a request
        beyond them waits, and that wait is not controller latency) and hands them to the
        controller one every two cycles; ``Reorder`` also returns responses in request
        order. MaxActiveTransactions has no effect with ``Simple`` (as in DRAMSys).
    """

    PagePolicy: str = DEFAULTS["PagePolicy"]
    Scheduler: str = DEFAULTS["Scheduler"]
    SchedulerBuffer: str = DEFAULTS["SchedulerBuffer"]
    RequestBufferSize: int = DEFAULTS["RequestBufferSize"]
    RespQueue: str = DEFAULTS["RespQueue"]
    RefreshPolicy: str = DEFAULTS["RefreshPolicy"]
    RefreshMaxPostponed: int = DEFAULTS["RefreshMaxPostponed"]
    RefreshMaxPulledin: int = DEFAULTS["RefreshMaxPulledin"]
    Arbiter: str = DEFAULTS["Arbiter"]
    MaxActiveTransactions: int = DEFAULTS["MaxActiveTransactions"]

    def __post_init__(self) -> None:
        for name, allowed in KNOBS.items():
            v = getattr(self, name)
            if name in INT_KNOBS:
                lo, hi = INT_KNOBS[name]
                ok = isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
                what = f"an integer from {lo} to {hi} (DRAMGym's values: " \
                       f"{', '.join(map(str, allowed))})"
            else:
                ok = isinstance(v, str) and v in allowed
                what = ", ".join(allowed)
            if not ok:
                raise ValueError(f"controller knob {name}={v!r} is not allowed; allowed "
                                 f"values: {what}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ControllerConfig:
        """Build from a knob dict (missing knobs take defaults); unknown or bad -> ValueError."""
        unknown = set(d) - set(KNOBS)
        if unknown:
            raise ValueError(
                f"unknown controller knob(s) {sorted(unknown)}; knobs: {', '.join(KNOBS)}"
            )
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def code(self, name: str) -> int:
        """Integer handed to the compiled engine: a categorical knob's index in ``KNOBS``,
        an integer knob's value."""
        v = getattr(self, name)
        return v if name in INT_KNOBS else KNOBS[name].index(v)

    def codes(self) -> tuple[int, ...]:
        """The option vector handed to the compiled engine (``engine_dramsys.O_*``): every
        knob's :meth:`code`, in the order of ``KNOBS``."""
        return tuple(self.code(name) for name in KNOBS)

    @staticmethod
    def all_configs():
        """Iterate over all NUM_CONFIGS knob combinations."""
        for vals in itertools.product(*KNOBS.values()):
            yield ControllerConfig(**dict(zip(KNOBS, vals, strict=True)))


#: DRAMsim3's option values, in the order of the engine's integer codes.
DRAMSIM3_CHOICES: dict[str, tuple[str, ...]] = {
    "row_buf_policy": ("OPEN_PAGE", "CLOSE_PAGE"),
    "queue_structure": ("PER_BANK", "PER_RANK"),
    "refresh_policy": ("RANK_LEVEL_STAGGERED", "RANK_LEVEL_SIMULTANEOUS",
                       "BANK_LEVEL_STAGGERED"),
}
#: DRAMGym knob -> (DRAMsim3 option, {knob value: option value}) where they mean the same.
DRAMGYM_ALIASES: dict[str, tuple[str, dict[str, Any]]] = {
    "PagePolicy": ("row_buf_policy", {"Open": "OPEN_PAGE", "Closed": "CLOSE_PAGE"}),
    "RefreshPolicy": ("refresh", {"AllBank": True, "NoRefresh": False}),
}
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class ControllerOptionError(ValueError):
    """A controller option that does not exist or has a value outside its allowed set."""


@dataclass(frozen=True)
class Dramsim3Like:
    """DRAMsim3's controller (``engine_dramsim3``), configured by DRAMsim3's own options.

    row_buf_policy
        ``OPEN_PAGE`` keeps rows open; ``CLOSE_PAGE`` sends every read / write with
        auto-precharge (RDA / WRA).
    queue_structure
        ``PER_BANK``: one command queue per bank; ``PER_RANK``: one per rank.
    cmd_queue_size, trans_queue_size
        Entries per command queue; entries of the read (transaction) queue.
    unified_queue
        One transaction queue (``trans_queue_size``) for reads and writes, served in order
        (no write buffer, no write drain).
    write_buf_size
        Write-buffer entries. DRAMsim3 (29817593) reads this key but sizes its write buffer
        by ``trans_queue_size``; None (the default) does the same.
    refresh_policy
        ``RANK_LEVEL_STAGGERED``: an all-bank REF every tREFI / ranks, rank after rank;
        ``RANK_LEVEL_SIMULTANEOUS``: every rank each tREFI (DRAMsim3 refreshes only the
        first rank under this policy, a bug we do not copy); ``BANK_LEVEL_STAGGERED``: a
        same-bank REFsb every tREFIsb, for devices whose standard has one (DDR5).
    aggressive_precharging_enabled
        Close an idle open bank (no queued request for its row) in a cycle with no other
        command: DRAMsim3's option as it behaved until 2017 (commit 49585fc); later
        versions read the key and ignore it.
    row_hit_cap, write_drain_threshold, refresh
        Constants of DRAMsim3's code (4 hits before a conflict may close a row; a write drain
        starts above 8 buffered writes when every command queue is empty; refresh on),
        named here. ``refresh=False`` (DRAMGym's ``RefreshPolicy=NoRefresh``) turns refresh
        off, which DRAMsim3 cannot.
    """

    row_buf_policy: str = "OPEN_PAGE"
    queue_structure: str = "PER_BANK"
    cmd_queue_size: int = 8
    trans_queue_size: int = 32
    unified_queue: bool = False
    write_buf_size: int | None = None
    refresh_policy: str = "RANK_LEVEL_STAGGERED"
    aggressive_precharging_enabled: bool = False
    row_hit_cap: int = 4
    write_drain_threshold: int = 8
    refresh: bool = True

    def __post_init__(self) -> None:
        for name, allowed in DRAMSIM3_CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ControllerOptionError(
                    f"dramsim3_like option {name}={getattr(self, name)!r} is not allowed; "
                    f"allowed values: {', '.join(allowed)}")
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.type == "bool" and not isinstance(v, bool):
                raise ControllerOptionError(
                    f"dramsim3_like option {f.name}={v!r} must be True or False")
            if f.type.startswith("int") and v is not None and (
                    isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ControllerOptionError(
                    f"dramsim3_like option {f.name}={v!r} must be a positive integer")

    @property
    def write_buffer_entries(self) -> int:
        return self.trans_queue_size if self.write_buf_size is None else self.write_buf_size

    def with_options(self, options: dict[str, Any], where: str = "") -> Dramsim3Like:
        """A copy with ``options`` applied: DRAMsim3 names (values may be strings, as read
        from ``--set`` or an ``.ini``) or the DRAMGym knobs that mean the same thing
        (``PagePolicy`` Open/Closed, ``RefreshPolicy`` AllBank/NoRefresh)."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        at = f"{where}: " if where else ""
        for key, value in options.items():
            if key in DRAMGYM_ALIASES:
                name, values = DRAMGYM_ALIASES[key]
                if value not in values:
                    raise ControllerOptionError(
                        f"{at}{key}={value!r} has no dramsim3_like equivalent; allowed: "
                        f"{', '.join(values)}")
                changes[name] = values[value]
                continue
            if key not in fields:
                raise ControllerOptionError(
                    f"{at}unknown dramsim3_like option {key!r}; options: {', '.join(fields)}"
                    f"; DRAMGym knobs with the same meaning: {', '.join(DRAMGYM_ALIASES)}")
            changes[key] = _coerce(key, value, fields[key].type, at)
        try:
            return dataclasses.replace(self, **changes)
        except ControllerOptionError as e:
            raise ControllerOptionError(f"{at}{e}") from None

    def codes(self) -> tuple[int, ...]:
        """The option vector handed to the compiled engine (``engine_dramsim3.O_*``)."""
        return (DRAMSIM3_CHOICES["row_buf_policy"].index(self.row_buf_policy),
                DRAMSIM3_CHOICES["queue_structure"].index(self.queue_structure),
                self.cmd_queue_size, self.trans_queue_size, int(self.unified_queue),
                self.write_buffer_entries,
                DRAMSIM3_CHOICES["refresh_policy"].index(self.refresh_policy),
                int(self.refresh), int(self.aggressive_precharging_enabled), self.row_hit_cap,
                self.write_drain_threshold)


def _coerce(key: str, value: Any, kind: str, at: str) -> Any:
    """A string option value (from ``--set`` or an ``.ini``) as the field's type."""
    if not isinstance(value, str):
        return value
    v = value.strip()
    if kind == "bool":
        if v.lower() in _TRUE:
            return True
        if v.lower() in _FALSE:
            return False
        raise ControllerOptionError(f"{at}{key}={value!r} must be true or false")
    if kind.startswith("int"):
        if kind.endswith("None") and v.lower() == "none":
            return None
        try:
            return int(v)
        except ValueError:
            raise ControllerOptionError(
                f"{at}{key}={value!r} must be a positive integer") from None
    return v


CONTROLLER_PRESETS: dict[str, Dramsim3Like] = {"dramsim3_like": Dramsim3Like()}


def controller_config(controller, options: dict[str, Any] | None = None):
    """Normalise what ``simulate`` accepts: a preset name, a :class:`Dramsim3Like`, a
    :class:`ControllerConfig` or a DRAMGym knob dict; ``options`` (``--set`` pairs) go to
    the preset's options or on top of the knobs. Returns (config, name for the result)."""
    options = dict(options or {})
    if isinstance(controller, str):
        if controller not in CONTROLLER_PRESETS:
            raise ValueError(
                f"unknown controller {controller!r}; presets: {', '.join(CONTROLLER_PRESETS)},"
                " or pass a ControllerConfig / knob dict")
        ctrl = CONTROLLER_PRESETS[controller].with_options(options)
        return ctrl, controller if not options else {controller: asdict(ctrl)}
    if isinstance(controller, Dramsim3Like):
        ctrl = controller.with_options(options)
        return ctrl, asdict(ctrl)
    if controller is None:
        controller = {}
    if isinstance(controller, dict):
        controller = ControllerConfig.from_dict({**DEFAULTS, **controller, **options})
    elif isinstance(controller, ControllerConfig) and options:
        controller = ControllerConfig.from_dict({**controller.to_dict(), **options})
    if isinstance(controller, ControllerConfig):
        return controller, controller.to_dict()
    raise TypeError(f"controller must be a preset name, Dramsim3Like, ControllerConfig or "
                    f"dict, not {type(controller).__name__}")
