"""Roofline hosts: the baseline every PIM result is compared with.

A host runs a GEMV (an M x K matrix times N vectors) in
``max(2 M K N / peak ops, bytes moved / memory bandwidth)``: the roofline model (Williams,
Waterman and Patterson, CACM 2009), the same one AMD GeniePIM uses for its host. Its energy is
its board or package power times that time. Shipped hosts:

- ``T4``: NVIDIA Tesla T4 (the GPU PIM-GPT compares with). NVIDIA T4 datasheet (2019):
  320 GB/s GDDR6; peak 65 TFLOPS FP16 (tensor cores), 130 TOPS INT8, 260 TOPS INT4,
  8.1 TFLOPS FP32; 70 W board power.
- ``client-soc``: an AMD Ryzen 7040-class laptop SoC (GeniePIM's default host): 128-bit
  LPDDR5X-7500, 120 GB/s (AMD product page cited by GeniePIM's ``config.in``); its NPU (IPU)
  at 66.352 / 44.235 / 33.176 / 16.588 / 8.294 TOPS for 4 / 6 / 8 / 16 / 32-bit operands
  (GeniePIM ``config.in``); 28 W default package power (AMD Ryzen 7 7840U specification).

``docs/pim.md`` explains why a roofline host gives lower speed-ups than measured GPU times.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class HostError(ValueError):
    """A host name or parameter that is not allowed."""


@dataclass(frozen=True)
class RooflineHost:
    """A host's effective memory bandwidths (GB/s = bytes/ns) and peak operations.

    ``tops`` maps operand bits to effective tera-operations per second (a MAC is two
    operations). The matrix, input vectors and outputs may come from memories of different
    bandwidths (GeniePIM's sources); the matrix always comes from DRAM.
    """

    name: str
    matrix_gbps: float
    tops: tuple[tuple[int, float], ...]
    power_w: float
    vector_gbps: float = 0.0
    output_gbps: float = 0.0
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.matrix_gbps <= 0 or self.power_w < 0 or not self.tops:
            raise HostError(f"host {self.name!r}: bandwidth must be > 0, power >= 0 and at "
                            "least one (bits, TOPS) pair given")
        for bits, t in self.tops:
            if bits <= 0 or t <= 0:
                raise HostError(f"host {self.name!r}: TOPS entry ({bits}, {t}) must be > 0")

    def peak_ops_per_ns(self, bits: int) -> float:
        """Effective operations per ns for ``bits``-bit operands (the next wider if absent)."""
        wider = sorted(b for b, _ in self.tops if b >= bits)
        if not wider:
            raise HostError(f"host {self.name!r} lists no compute rate for {bits}-bit operands "
                            f"(has {sorted(b for b, _ in self.tops)})")
        return dict(self.tops)[wider[0]] * 1000.0

    def gemv_time_ns(self, M: int, K: int, N: int, matrix_bits: int, vector_bits: int,
                     reads_vector: bool = True, writes_output: bool = True) -> float:
        """Roofline time of an M x K by K x N product (operands of the wider precision)."""
        ops = 2.0 * M * K * N
        compute = ops / self.peak_ops_per_ns(max(matrix_bits, vector_bits))
        memory = M * K * matrix_bits / 8 / self.matrix_gbps
        if reads_vector:
            memory += K * N * vector_bits / 8 / (self.vector_gbps or self.matrix_gbps)
        if writes_output:
            memory += M * N * vector_bits / 8 / (self.output_gbps or self.matrix_gbps)
        return max(compute, memory)

    def stream_time_ns(self, nbytes: float) -> float:
        """Time to stream ``nbytes`` through DRAM (element-wise work is memory-bound)."""
        return nbytes / self.matrix_gbps

    def energy_pj(self, time_ns: float) -> float:
        """Energy of ``time_ns`` at the host's power (W x ns = nJ)."""
        return self.power_w * time_ns * 1000.0

    def to_dict(self) -> dict:
        return {"name": self.name, "matrix_gbps": self.matrix_gbps,
                "vector_gbps": self.vector_gbps or self.matrix_gbps,
                "output_gbps": self.output_gbps or self.matrix_gbps,
                "tops": {str(b): t for b, t in self.tops}, "power_w": self.power_w}


HOSTS: dict[str, RooflineHost] = {
    h.name: h for h in (
        RooflineHost("T4", matrix_gbps=320.0,
                     tops=((4, 260.0), (8, 130.0), (16, 65.0), (32, 8.1)), power_w=70.0,
                     source="NVIDIA Tesla T4 datasheet (2019)"),
        RooflineHost("client-soc", matrix_gbps=120.0,
                     tops=((4, 66.352), (6, 44.235), (8, 33.176), (16, 16.588), (32, 8.294)),
                     power_w=28.0,
                     source="AMD Ryzen 7 7840U: LPDDR5X-7500 128-bit; NPU rates of GeniePIM "
                            "config.in"),
    )
}


def get_host(host: str | RooflineHost) -> RooflineHost:
    """A shipped host by name, or ``host`` itself."""
    if isinstance(host, RooflineHost):
        return host
    if host not in HOSTS:
        raise HostError(f"unknown host {host!r}; allowed: {', '.join(HOSTS)}")
    return HOSTS[host]
