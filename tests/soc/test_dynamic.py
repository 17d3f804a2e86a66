"""The exact dynamic SoC simulator: invariants, hand-computed cases, contention, DVFS, energy,
the steppable API, determinism and errors."""

from __future__ import annotations

import math

import pytest

from simulators.soc import SocInputError
from simulators.soc.apps import App
from simulators.soc.cli_api import dynamic_json
from simulators.soc.dynamic import DynamicSim
from simulators.soc.platform import Interconnect, PEType, Platform
from simulators.soc.policies import DYNAMIC_SCHEDULERS, make_scheduler, policy_scheduler
from simulators.soc.workload import Arrival, Workload, poisson_arrivals, trace_arrivals
from workloads.soc import load_soc, load_workload


def _run(platform, workload, arrivals, scheduler="heft"):
    sim = DynamicSim(platform, workload, arrivals)
    sim.run(make_scheduler(scheduler))
    return sim, sim.result(scheduler)


def _check_invariants(sim: DynamicSim) -> None:
    """Every task ran once, after its inputs, on a PE that supports it, one at a time."""
    ic = sim.platform.interconnect
    per_pe: dict[int, list] = {}
    for job in sim.jobs:
        app = sim.workload.apps[job.app]
        for t in job.tasks:
            assert t.pe in sim.allowed_pes(t)
            assert math.isclose(t.finish - t.start, sim.exec_time(t, t.pe))
            assert t.start >= t.mapped_at >= t.ready_at >= job.arrival
            for q, vol in app.pred[t.index]:
                p = job.tasks[q]
                assert t.ready_at >= p.finish
                if vol and p.pe != t.pe:  # the transfer needs at least latency + vol / bw
                    bw = sim.platform.bandwidth_matrix()[p.pe][t.pe]
                    assert t.start >= t.mapped_at + ic.latency_us + vol / bw - 1e-9
            per_pe.setdefault(t.pe, []).append((t.start, t.finish))
        assert job.finish == max(t.finish for t in job.tasks)
    for spans in per_pe.values():
        spans.sort()
        for (_, f0), (s1, _) in zip(spans, spans[1:], strict=False):
            assert s1 >= f0 - 1e-9


@pytest.fixture(scope="module")
def ds3soc():
    return load_soc("ds3_reference")


@pytest.mark.parametrize("scheduler", list(DYNAMIC_SCHEDULERS))
@pytest.mark.parametrize("mix", ["wifi", "ds3_mix"])
def test_every_job_completes_and_invariants_hold(ds3soc, scheduler, mix):
    w = load_workload(mix)
    sim, r = _run(ds3soc, w, poisson_arrivals(w, 40, 4.0, seed=1), scheduler)
    assert r.completed_jobs == r.jobs == 40
    assert r.tasks == sum(w.apps[j.app].num_tasks for j in sim.jobs)
    _check_invariants(sim)
    assert 0 < r.mean_job_latency_us <= r.p95_job_latency_us <= max(sim.result().job_latencies_us)
    assert 0 < r.mean_pe_utilisation < 1


def _single_pe(time_a=3.0, time_b=5.0, count=1, bandwidth=1.0, channels=1, latency=0.0):
    return Platform("tiny", (PEType("cpu", "CPU", count, {"a": time_a, "b": time_b},
                                    dynamic_power_w=2.0, static_power_w=0.5, area_mm2=1.5),),
                    Interconnect(bandwidth=bandwidth, channels=channels, latency_us=latency))


CHAIN = App("chain", ("a", "b"), ((0, 1, 10.0),))


def test_hand_computed_single_pe():
    # one PE, no transfer (same PE); both jobs' "a" are ready at 0 and queue first (FIFO):
    # a0 [0,3) a1 [3,6) b0 [6,11) b1 [11,16)
    w = Workload("chain", (CHAIN,), (1.0,))
    sim, r = _run(_single_pe(), w, [Arrival(0.0, 0), Arrival(0.0, 0)], "met")
    assert [j.finish - j.arrival for j in sim.jobs] == [11.0, 16.0]
    assert r.mean_job_latency_us == 13.5 and r.makespan_us == 16.0
    # energy: dynamic 2 W busy 16 us + static 0.5 W over 16 us (W x us = uJ)
    assert r.energy_uj == pytest.approx(2.0 * 16 + 0.5 * 16)
    assert r.energy_per_job_uj == pytest.approx(r.energy_uj / 2)
    assert r.edp_uj_us == pytest.approx(r.energy_per_job_uj * 13.5)
    assert r.area_mm2 == 1.5 and r.pe_utilisation == {"cpu_0": 1.0}


def test_transfer_time_and_link_contention():
    # fork a -> (b, c) on two PEs: forcing b and c away from a makes two 10-byte transfers at
    # bandwidth 1; with one link they queue (the second arrives 10 us later)
    app = App("fork", ("a", "b", "b"), ((0, 1, 10.0), (0, 2, 10.0)))
    w = Workload("fork", (app,), (1.0,))
    finish = {}
    for channels in (1, 2):
        plat = Platform("two", (PEType("x", "CPU", 1, {"a": 1.0}),
                                PEType("y", "CPU", 2, {"b": 2.0})),
                        Interconnect(bandwidth=1.0, channels=channels))
        sim = DynamicSim(plat, w, [Arrival(0.0, 0)])
        sim.run(make_scheduler("heft"))
        finish[channels] = sim.result().makespan_us
        _check_invariants(sim)
    assert finish[2] == 1 + 10 + 2
    assert finish[1] == 1 + 10 + 10 + 2


def test_dvfs_slows_down_and_saves_dynamic_energy():
    t = PEType("big", "BIG", 1, {"a": 10.0, "b": 10.0}, opps=((1000, 900), (2000, 1200)),
               dynamic_power_w=3.0)
    w = Workload("chain", (CHAIN,), (1.0,))
    fast = Platform("f", (t,))
    slow = fast.with_design(opps={"big": 0})
    _, rf = _run(fast, w, [Arrival(0.0, 0)], "met")
    _, rs = _run(slow, w, [Arrival(0.0, 0)], "met")
    assert rf.mean_job_latency_us == 20.0 and rs.mean_job_latency_us == 40.0
    # P ~ f V^2: half the frequency at 900/1200 of the voltage, for twice the time
    assert rs.energy_uj == pytest.approx(rf.energy_uj * 0.5 * (0.75 ** 2) * 2)


def test_more_accelerators_help_a_loaded_wifi_stream(ds3soc):
    w = load_workload("wifi")
    arr = poisson_arrivals(w, 60, 8.0, seed=3)
    _, few = _run(ds3soc.with_design(counts={"FFT": 1}), w, arr)
    _, many = _run(ds3soc.with_design(counts={"FFT": 4}), w, arr)
    assert many.mean_job_latency_us < few.mean_job_latency_us
    assert many.area_mm2 == pytest.approx(few.area_mm2 + 3 * 0.34)


def test_steppable_api_reproduces_the_plugin(ds3soc):
    w = load_workload("wifi")
    arr = poisson_arrivals(w, 15, 5.0, seed=2)
    _, plugin = _run(ds3soc, w, arr, "mct")
    sim = DynamicSim(ds3soc, w, arr)
    steps = 0
    while sim.run_until_decision():
        t = sim.next_task()
        eft = sim.est_eft(t)
        pe = min((se[1], p) for p, se in enumerate(eft) if se is not None)[1]
        sim.decide(pe)  # the default task is next_task()
        steps += 1
    assert steps == plugin.tasks
    assert sim.result("mct").to_dict() == plugin.to_dict()


def test_features_for_a_learned_policy(ds3soc):
    w = load_workload("wifi_tx")
    sim = DynamicSim(ds3soc, w, [Arrival(0.0, 0), Arrival(5.0, 0)])
    assert sim.run_until_decision()
    t = sim.next_task()
    assert t.index == 0 and sim.upward_rank(t) > 0 and sim.num_successors(t) == 5
    assert sim.remaining_work(t.job) > sim.upward_rank(t) > 0
    assert all(sim.pe_available_at(p) == 0.0 for p in sim.compute_pes)
    calls = []

    def policy(s, task):
        calls.append(task.uid)
        return s.allowed_pes(task)[0]
    sim.run(policy_scheduler(policy))
    assert sim.finished and len(calls) == 2 * 27


def test_deferring_until_a_pe_is_idle(ds3soc):
    w = load_workload("wifi")

    def lazy(sim):  # map only onto idle PEs with nothing queued; leave the rest waiting
        for t in sorted(sim.ready, key=lambda t: (t.job, t.index)):
            idle = [p for p in sim.allowed_pes(t) if sim.pe_available_at(p) <= sim.now]
            if idle:
                sim.decide(idle[0], t.uid)
    sim = DynamicSim(ds3soc, w, poisson_arrivals(w, 10, 5.0, seed=4))
    sim.run(lazy)
    _check_invariants(sim)
    assert sim.result().completed_jobs == 10


def test_determinism(ds3soc):
    w = load_workload("ds3_mix")
    a = dynamic_json(ds3soc, w, jobs=30, rate=3.0, scheduler="etf", seed=5)
    b = dynamic_json(ds3soc, w, jobs=30, rate=3.0, scheduler="etf", seed=5)
    c = dynamic_json(ds3soc, w, jobs=30, rate=3.0, scheduler="etf", seed=6)
    assert a == b and a != c
    assert {"mean_job_latency_us", "p95_job_latency_us", "throughput_jobs_per_ms",
            "energy_per_job_uj", "edp_uj_us", "pe_utilisation", "area_mm2"} <= set(a)


def test_trace_arrivals_and_errors(ds3soc):
    w = load_workload("wifi")
    arr = trace_arrivals(w, [(0.0, "wifi_tx"), (10.0, "wifi_rx")])
    assert [a.app for a in arr] == [0, 1]
    with pytest.raises(SocInputError, match="unknown application"):
        trace_arrivals(w, [(0.0, "nope")])
    with pytest.raises(SocInputError, match="before the previous"):
        trace_arrivals(w, [(5.0, "wifi_tx"), (1.0, "wifi_tx")])
    sim = DynamicSim(ds3soc, w, arr)
    sim.run_until_decision()
    with pytest.raises(SocInputError, match="cannot run on PE"):
        sim.decide(len(sim.pe_types) - 1)  # the memory runs nothing
    no_fft = Platform("cpu", (PEType("c", "CPU", 1, {"x": 1.0}),))
    with pytest.raises(SocInputError, match="no PE of SoC"):
        DynamicSim(no_fft, w, arr)


def test_a_scheduler_that_never_maps_is_reported(ds3soc):
    w = load_workload("wifi_tx")
    sim = DynamicSim(ds3soc, w, [Arrival(0.0, 0)])
    with pytest.raises(SocInputError, match="unmapped"):
        sim.run(lambda s: None)
