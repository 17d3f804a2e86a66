"""DRAMsim3-style address mapping strings, decoded and encoded for whole arrays at once.

A mapping string such as ``rochrababgco`` lists six two-letter fields from the most to the
least significant bits: ``ro`` row, ``ch`` channel, ``ra`` rank, ``ba`` bank (within its bank
group), ``bg`` bank group and ``co`` column. The low ``log2(bytes_per_burst)`` bits (the byte
offset inside one burst) are dropped first; field widths come from the device organisation, the
column field counting bursts (``log2(columns / BL)`` bits). Address bits above the row field are
ignored (addresses wrap around the channel's capacity).

Source: DRAMsim3 (Li et al., "DRAMsim3: a Cycle-accurate, Thermal-Capable DRAM Simulator",
IEEE CAL 2020), its ``address_mapping`` configuration key and the bit layout documented in
``shared/reference/dram/dramsim3_reference.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.dram.device import DeviceSpec

FIELDS = ("ro", "ch", "ra", "ba", "bg", "co")
FIELD_NAMES = {
    "ro": "row", "ch": "channel", "ra": "rank", "ba": "bank", "bg": "bankgroup", "co": "column",
}


def _log2(x: int, what: str) -> int:
    if x < 1 or x & (x - 1):
        raise ValueError(f"{what} must be a power of two for address mapping, got {x}")
    return x.bit_length() - 1


def flat_bank(d: DeviceSpec, fields: dict[str, np.ndarray]) -> np.ndarray:
    """Bank index over the channel: rank * banks_per_rank + bankgroup * bpg + bank."""
    return fields["rank"] * d.banks_per_rank + fields["bankgroup"] * d.banks_per_group \
        + fields["bank"]


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

    def decode(self, addr) -> dict[str, np.ndarray]:
        """Split byte addresses into fields (keys: row, channel, rank, bank, bankgroup, column).

        ``bank`` is the bank inside its bank group.
        """
        a = np.asarray(addr, dtype=np.uint64)
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
        return flat_bank(self.device, fields)

    def bind(self, device: DeviceSpec) -> AddressMapping:
        """The same mapping string for another device."""
        return AddressMapping(self.spec, device)


#: DRAMSys address-mapping fields (ConGen format) -> decoded field names
BIT_FIELDS = {
    "BYTE_BIT": "byte", "COLUMN_BIT": "column", "ROW_BIT": "row", "BANK_BIT": "bank",
    "BANKGROUP_BIT": "bankgroup", "RANK_BIT": "rank", "CHANNEL_BIT": "channel",
}


@dataclass(frozen=True)
class BitMapping:
    """A bit-level address mapping: DRAMSys's ConGen format.

    ``bits`` maps each DRAMSys field (``ROW_BIT``, ``COLUMN_BIT``...; see ``BIT_FIELDS``) to
    its entries, least significant first; an entry is one address bit, or several whose XOR
    gives the field bit (DRAMSys v5's ``[a, b]`` entries). ``COLUMN_BIT`` counts device
    columns; the entries sitting on the address bits just above the byte bits select the beat
    inside a burst and are dropped, so ``decode`` returns the column in bursts like
    :class:`AddressMapping`. Address bits no field names are ignored (addresses wrap).

    Source: DRAMSys v5.1 ``AddressDecoder`` (Steiner et al., DRAMSys4.0, IJPP 2022).
    """

    bits: tuple[tuple[str, tuple[tuple[int, ...], ...]], ...]
    device: DeviceSpec
    spec: str = "dramsys"

    def __post_init__(self) -> None:
        d = self.device
        b = dict(self.bits)
        unknown = set(b) - set(BIT_FIELDS)
        if unknown:
            raise ValueError(f"address mapping fields {sorted(unknown)} unknown; allowed: "
                             f"{', '.join(BIT_FIELDS)}")
        want = {"BYTE_BIT": d.bus_width // 8, "COLUMN_BIT": d.columns, "ROW_BIT": d.rows,
                "BANK_BIT": d.banks_per_group, "BANKGROUP_BIT": d.bankgroups,
                "RANK_BIT": d.ranks, "CHANNEL_BIT": d.channels}
        for f, count in want.items():
            n = len(b.get(f, ()))
            if 1 << n != count:
                raise ValueError(f"address mapping {f} has {n} bits; the device needs "
                                 f"{_log2(count, f)} ({count} {BIT_FIELDS[f]} values)")
        pos = [e[0] for f in BIT_FIELDS for e in b.get(f, ())]
        if len(set(pos)) != len(pos):
            raise ValueError("address mapping: an address bit is used by two fields")
        if sorted(pos) != list(range(len(pos))):
            missing = sorted(set(range(max(pos) + 1)) - set(pos))
            raise ValueError(f"address mapping leaves address bits {missing} unmapped")
        nbyte = len(b.get("BYTE_BIT", ()))
        if sorted(e[0] for e in b.get("BYTE_BIT", ())) != list(range(nbyte)):
            raise ValueError("address mapping BYTE_BIT must be the lowest address bits")
        beat = set(range(nbyte, nbyte + _log2(d.BL, "burst length")))
        if not beat <= {e[0] for e in b["COLUMN_BIT"]}:
            raise ValueError(f"address mapping COLUMN_BIT must hold address bits "
                             f"{sorted(beat)} (the beats of a BL{d.BL} burst above the byte bits)")

    def _entries(self, field: str) -> tuple[tuple[int, ...], ...]:
        entries = dict(self.bits).get(field, ())
        if field == "COLUMN_BIT":
            nbyte = len(dict(self.bits).get("BYTE_BIT", ()))
            beat = range(nbyte, nbyte + _log2(self.device.BL, "burst length"))
            entries = tuple(e for e in entries if e[0] not in beat)
        return entries

    def decode(self, addr) -> dict[str, np.ndarray]:
        """Split byte addresses into fields, as :meth:`AddressMapping.decode`."""
        a = np.asarray(addr, dtype=np.uint64)
        out = {}
        for f, name in BIT_FIELDS.items():
            if f == "BYTE_BIT":
                continue
            v = np.zeros(a.shape, dtype=np.uint64)
            for k, entry in enumerate(self._entries(f)):
                bit = np.zeros(a.shape, dtype=np.uint64)
                for p in entry:
                    bit ^= (a >> np.uint64(p)) & np.uint64(1)
                v |= bit << np.uint64(k)
            out[name] = v.astype(np.int64)
        return out

    def flat_bank(self, fields: dict[str, np.ndarray]) -> np.ndarray:
        """Bank index over the channel: rank * banks_per_rank + bankgroup * bpg + bank."""
        return flat_bank(self.device, fields)

    def bind(self, device: DeviceSpec) -> BitMapping:
        """The same mapping for another (equally organised) device."""
        return BitMapping(self.bits, device, self.spec)
