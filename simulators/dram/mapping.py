"""DRAMsim3-style address mapping strings, decoded and encoded for whole arrays at once.

A mapping string such as ``rochrababgco`` lists six two-letter fields from the most to the
least significant bits: ``ro`` row, ``ch`` channel, ``ra`` rank, ``ba`` bank (within its bank
group), ``bg`` bank group and ``co`` column. The low ``log2(bytes_per_burst)`` bits (the byte
offset inside one burst) are dropped first; field widths come from the device organisation, the
column field counting bursts (``log2(columns / BL)`` bits). Address bits above the row field are
ignored, as DRAMsim3 masks each field (``Config::AddressMapping``): an address beyond the
device's capacity is folded onto it (``addr mod capacity``), with one
:class:`AddressFoldWarning` per device and mapping saying so.

Source: DRAMsim3 (Li et al., "DRAMsim3: a Cycle-accurate, Thermal-Capable DRAM Simulator",
IEEE CAL 2020), its ``address_mapping`` configuration key and the bit layout documented in
``shared/reference/dram/dramsim3_reference.json``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from simulators.dram.device import DeviceSpec

FIELDS = ("ro", "ch", "ra", "ba", "bg", "co")
FIELD_NAMES = {
    "ro": "row", "ch": "channel", "ra": "rank", "ba": "bank", "bg": "bankgroup", "co": "column",
}


class AddressFoldWarning(UserWarning):
    """Trace addresses reach beyond the device's capacity and are folded onto it."""


#: (device, mapping) pairs already warned about in this process: a search simulates the
#: same trace thousands of times and needs to hear it once
_FOLD_WARNED: set[tuple[str, str]] = set()


def _log2(x: int, what: str) -> int:
    if x < 1 or x & (x - 1):
        raise ValueError(f"{what} must be a power of two for address mapping, got {x}")
    return x.bit_length() - 1


@dataclass(frozen=True)
class AddressMapping:
    """A parsed mapping string bound to a device's field widths.

    Parameters
    ----------
    spec : mapping string, six two-letter fields MSB -> LSB, each of ro, ch, ra, ba, bg, co
        exactly once.
    device : the DeviceSpec that gives each field's width.
    """

    spec: str
    device: DeviceSpec

    def __post_init__(self) -> None:
        s = self.spec
        allowed = ", ".join(f"{k} ({v})" for k, v in FIELD_NAMES.items())
        if not isinstance(s, str) or len(s) != 12:
            raise ValueError(
                f"address mapping {s!r} must be 12 characters: the six fields {allowed}, "
                "each once, listed MSB -> LSB (e.g. 'rochrababgco')"
            )
        toks = [s[i:i + 2] for i in range(0, 12, 2)]
        if sorted(toks) != sorted(FIELDS):
            raise ValueError(
                f"address mapping {s!r} has fields {toks}; it must contain each of {allowed} "
                "exactly once, listed MSB -> LSB (e.g. 'rochrababgco')"
            )

    @property
    def fields(self) -> tuple[str, ...]:
        """Fields from the most to the least significant."""
        return tuple(self.spec[i:i + 2] for i in range(0, 12, 2))

    @property
    def widths(self) -> dict[str, int]:
        d = self.device
        return {
            "ro": _log2(d.rows, "rows"),
            "ch": _log2(d.channels, "channels"),
            "ra": _log2(d.ranks, "ranks"),
            "ba": _log2(d.banks_per_group, "banks_per_group"),
            "bg": _log2(d.bankgroups, "bankgroups"),
            "co": _log2(d.columns_per_row, "columns/BL"),
        }

    @property
    def offset_bits(self) -> int:
        return _log2(self.device.bytes_per_burst, "bytes_per_burst")

    def shifts(self) -> dict[str, int]:
        """Bit position of each field's least significant bit."""
        w = self.widths
        pos = self.offset_bits
        out = {}
        for f in reversed(self.fields):
            out[f] = pos
            pos += w[f]
        return out

    @property
    def address_bits(self) -> int:
        """Bits of a byte address the mapping uses: the device holds ``2**address_bits``
        bytes."""
        return self.offset_bits + sum(self.widths.values())

    def decode(self, addr) -> dict[str, np.ndarray]:
        """Split byte addresses into fields (keys: row, channel, rank, bank, bankgroup, column).

        ``bank`` is the bank inside its bank group. Addresses at or beyond the capacity fold
        onto it, with an :class:`AddressFoldWarning` (once per device and mapping).
        """
        a = np.asarray(addr, dtype=np.uint64)
        bits = self.address_bits
        if a.size and int(a.max()) >> bits and (self.device.name, self.spec) not in _FOLD_WARNED:
            _FOLD_WARNED.add((self.device.name, self.spec))
            warnings.warn(
                f"trace addresses reach beyond the {2 ** bits / 2 ** 30:g} GiB of "
                f"{self.device.name} (mapping {self.spec}): the bits above bit {bits - 1} are "
                f"ignored, so each such address is folded onto the device as address mod "
                f"2^{bits} (DRAMsim3 masks the fields the same way)",
                AddressFoldWarning, stacklevel=2)
        w = self.widths
        out = {}
        for f, sh in self.shifts().items():
            mask = np.uint64((1 << w[f]) - 1)
            out[FIELD_NAMES[f]] = ((a >> np.uint64(sh)) & mask).astype(np.int64)
        return out

    def encode(self, *, row=0, channel=0, rank=0, bank=0, bankgroup=0, column=0) -> np.ndarray:
        """Inverse of :meth:`decode` (byte offset 0)."""
        vals = {"ro": row, "ch": channel, "ra": rank, "ba": bank, "bg": bankgroup, "co": column}
        w = self.widths
        a = np.zeros(np.broadcast(*vals.values()).shape, dtype=np.uint64)
        for f, sh in self.shifts().items():
            v = np.asarray(vals[f], dtype=np.uint64)
            if np.any(v >= np.uint64(1 << w[f])):
                raise ValueError(f"{FIELD_NAMES[f]} value out of range for {w[f]} bits")
            a |= v << np.uint64(sh)
        return a

    def flat_bank(self, fields: dict[str, np.ndarray]) -> np.ndarray:
        """Bank index over the channel: rank * banks_per_rank + bankgroup * bpg + bank."""
        d = self.device
        return (fields["rank"] * d.banks_per_rank + fields["bankgroup"] * d.banks_per_group
                + fields["bank"])
