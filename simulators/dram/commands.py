"""The DRAM command log shared by the controller models and the independent timing checker.

One row per command put on a channel's command bus. ``req`` is the index (in the trace)
of the request a column command serves, and -1 for ACT/PRE/PREA/REF/REFSB. ``bank`` and
``bankgroup`` are -1 for rank-wide commands (PREA, REF); a same-bank refresh (REFSB) names
the bank index it refreshes in every bank group (``bankgroup`` -1). ``row`` is -1 where it
does not apply, ``col`` is the column of the burst (in bursts, not bytes) for column commands
and -1 otherwise. RDA / WRA are RD / WR with auto-precharge: the bank precharges itself once
tRTP (read) or the write recovery and tRAS allow (JEDEC's tRAS lock-out), with no PRE on the
bus.
"""

import numpy as np

ACT, PRE, RD, WR, REF, PREA, RDA, WRA, REFSB = range(9)
NAMES = {ACT: "ACT", PRE: "PRE", RD: "RD", WR: "WR", REF: "REF", PREA: "PREA", RDA: "RDA",
         WRA: "WRA", REFSB: "REFSB"}
COLUMN = (RD, WR, RDA, WRA)
READS = (RD, RDA)
WRITES = (WR, WRA)

CMD_DTYPE = np.dtype(
    [
        ("cycle", "i8"),
        ("cmd", "u1"),
        ("channel", "i2"),
        ("rank", "i2"),
        ("bankgroup", "i2"),
        ("bank", "i2"),
        ("row", "i4"),
        ("col", "i4"),
        ("req", "i8"),
    ]
)
