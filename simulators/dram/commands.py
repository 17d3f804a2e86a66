"""The DRAM command log shared by the controller model and the independent timing checker.

One row per command put on the channel's command bus. ``req`` is the index (in the trace)
of the request a RD/WR serves, and -1 for ACT/PRE/PREA/REF. RDA / WRA are RD / WR with
auto-precharge: the bank precharges itself once tRTP (read) or the write recovery and tRAS
allow (JEDEC's tRAS lock-out), with no PRE on the bus. ``bank`` and ``bankgroup`` are -1
for rank-wide commands (PREA, REF); ``row`` is -1 where it does not apply, ``col`` is the
column of the burst (in bursts, not bytes) for RD/WR and -1 otherwise.
"""

import numpy as np

ACT, PRE, RD, WR, REF, PREA, RDA, WRA = 0, 1, 2, 3, 4, 5, 6, 7
NAMES = {ACT: "ACT", PRE: "PRE", RD: "RD", WR: "WR", REF: "REF", PREA: "PREA", RDA: "RDA",
         WRA: "WRA"}

CMD_DTYPE = np.dtype(
    [
        ("cycle", "i8"),
        ("cmd", "u1"),
        ("rank", "i2"),
        ("bankgroup", "i2"),
        ("bank", "i2"),
        ("row", "i4"),
        ("col", "i4"),
        ("req", "i8"),
    ]
)
