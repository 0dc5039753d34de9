"""The maximal covering location problem: open n of m candidate sites so that they cover the most demand.

Demand comes in units, each with a weight (people) and the set of candidates that would cover it; a unit counts
once however many chosen sites cover it. Solved exactly as a mixed-integer program with HiGHS (binary x_j per
candidate, y_a ≤ Σ x_j over the candidates covering unit a, Σ x_j ≤ n, maximise Σ w_a y_a) when that finishes
within the time limit, and greedily otherwise: the greedy choice covers at least (1 − 1/e) of the optimum
(Nemhauser, Wolsey and Fisher, 1978), and the LP relaxation bounds the optimum from above.

Pure: numpy and highspy only, no database; run it in a worker thread.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

GREEDY_GUARANTEE = 1 - 1 / math.e
METHODS = ("auto", "milp", "greedy")


@dataclass(frozen=True)
class Instance:
    """Units of demand: unit a weighs ``weights[a]`` and is covered by ``cands[starts[a]:starts[a + 1]]``."""

    weights: NDArray[np.float64]
    starts: NDArray[np.intp]
    cands: NDArray[np.intp]
    m: int

    @classmethod
    def from_sets(cls, weights: list[float], sets: list[list[int]], m: int) -> Instance:
        """An instance from one candidate list per unit."""
        starts = np.zeros(len(sets) + 1, dtype=np.intp)
        starts[1:] = np.cumsum([len(s) for s in sets])
        cands = np.array([j for s in sets for j in s], dtype=np.intp)
        return cls(np.asarray(weights, dtype=float), starts, cands, m)

    def units_of(self) -> NDArray[np.intp]:
        """For each entry of ``cands``, the unit it belongs to."""
        return np.repeat(np.arange(len(self.weights)), np.diff(self.starts))

    def covered(self, chosen: list[int]) -> NDArray[np.bool_]:
        """Which units the chosen candidates cover."""
        hit = np.isin(self.cands, chosen)
        return np.bincount(self.units_of()[hit], minlength=len(self.weights)) > 0

    def value(self, chosen: list[int]) -> float:
        """The demand the chosen candidates cover."""
        return float(self.weights[self.covered(chosen)].sum())

    def merged(self) -> Instance:
        """The same problem with units of equal candidate sets merged (their weights added): fewer rows."""
        keys: dict[tuple[int, ...], int] = {}
        weights: list[float] = []
        sets: list[list[int]] = []
        for a in range(len(self.weights)):
            key = tuple(sorted(self.cands[self.starts[a] : self.starts[a + 1]].tolist()))
            if not key:
                continue
            if key in keys:
                weights[keys[key]] += float(self.weights[a])
            else:
                keys[key] = len(weights)
                weights.append(float(self.weights[a]))
                sets.append(list(key))
        return Instance.from_sets(weights, sets, self.m)


@dataclass(frozen=True)
class Solution:
    """The chosen candidates in the order of their marginal gains, and how far from the optimum they may be."""

    chosen: list[int]
    value: float
    method: str  # milp | greedy
    optimal: bool
    bound: float | None  # an upper bound on the best value; None when proved optimal
    seconds: float


def greedy(inst: Instance, n: int, among: list[int] | None = None) -> list[int]:
    """Up to n candidates (of ``among``, default all), each the one adding most to those before; stops when
    none adds anything. Ties go to the lowest index."""
    units = inst.units_of()
    gains = np.bincount(inst.cands, weights=inst.weights[units], minlength=inst.m)
    allowed = np.zeros(inst.m, dtype=bool)
    allowed[among if among is not None else slice(None)] = True
    order = np.argsort(inst.cands, kind="stable")  # entries by candidate
    bounds = np.searchsorted(inst.cands[order], np.arange(inst.m + 1))
    covered = np.zeros(len(inst.weights), dtype=bool)
    chosen: list[int] = []
    while len(chosen) < n:
        masked = np.where(allowed, gains, -np.inf)
        best = int(np.argmax(masked))
        if not masked[best] > 0:
            break
        chosen.append(best)
        allowed[best] = False
        fresh = units[order[bounds[best] : bounds[best + 1]]]
        fresh = fresh[~covered[fresh]]
        covered[fresh] = True
        for a in fresh.tolist():  # their weight no longer counts for any candidate covering them
            gains[inst.cands[inst.starts[a] : inst.starts[a + 1]]] -= inst.weights[a]
    return chosen


def _model(inst: Instance, n: int, integer: bool) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    m, units = inst.m, len(inst.weights)
    lp = highspy.HighsLp()
    lp.num_col_ = m + units
    lp.num_row_ = units + 1
    lp.col_cost_ = np.concatenate([np.zeros(m), -inst.weights])  # HiGHS minimises
    lp.col_lower_ = np.zeros(m + units)
    lp.col_upper_ = np.ones(m + units)
    lp.row_lower_ = np.full(units + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.zeros(units), [float(n)]])
    # Row a: y_a − Σ x_j ≤ 0; the last row: Σ x_j ≤ n.
    sizes = np.diff(inst.starts) + 1
    starts = np.concatenate([[0], np.cumsum(sizes), [int(sizes.sum()) + m]])
    index = np.empty(int(sizes.sum()), dtype=np.int32)
    value = np.empty(int(sizes.sum()))
    heads = starts[:-2]
    index[heads] = m + np.arange(units)
    value[heads] = 1.0
    body = np.ones(len(index), dtype=bool)
    body[heads] = False
    index[body] = inst.cands
    value[body] = -1.0
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = m + units
    lp.a_matrix_.num_row_ = units + 1
    lp.a_matrix_.start_ = starts.astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate([index, np.arange(m, dtype=np.int32)])
    lp.a_matrix_.value_ = np.concatenate([value, np.ones(m)])
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * m + [highspy.HighsVarType.kContinuous] * units
    h.passModel(lp)
    return h


def lp_bound(inst: Instance, n: int, time_limit: float) -> float | None:
    """The optimum of the LP relaxation (at least the best integer value); None if not found in time."""
    h = _model(inst, n, integer=False)
    h.setOptionValue("time_limit", max(time_limit, 0.01))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return -float(h.getInfo().objective_function_value)


def milp(
    inst: Instance, n: int, time_limit: float, start: list[int]
) -> tuple[list[int], bool, float | None] | None:
    """The best choice HiGHS finds in the time limit (starting from ``start``): chosen, proved optimal, and an
    upper bound on the optimum (the dual bound) when not proved; None when it found none."""
    h = _model(inst, n, integer=True)
    h.setOptionValue("time_limit", max(time_limit, 0.01))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-6)
    if start:
        x = np.zeros(inst.m + len(inst.weights))
        x[start] = 1.0
        x[inst.m :] = inst.covered(start)
        solution = highspy.HighsSolution()
        solution.col_value = x.tolist()
        h.setSolution(solution)
    h.run()
    status = h.getModelStatus()
    values = np.asarray(h.getSolution().col_value)
    if status != highspy.HighsModelStatus.kOptimal and (len(values) < inst.m or not h.getInfo().valid):
        return None
    chosen = [int(j) for j in np.flatnonzero(values[: inst.m] > 0.5)]
    optimal = status == highspy.HighsModelStatus.kOptimal
    bound = None if optimal else -float(h.getInfo().mip_dual_bound)
    return chosen, optimal, bound


def solve(inst: Instance, n: int, method: str = "auto", time_limit: float = 10.0) -> Solution:
    """The best n sites by ``method``: ``milp`` (exact within the time limit, else its best), ``greedy``, or
    ``auto`` (MILP where it proves optimality within the time limit, else the better of the two)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    started = time.perf_counter()
    small = inst.merged()
    first = greedy(small, n)
    first_value = small.value(first)
    chosen, optimal, bound, used = first, False, None, "greedy"
    if method in ("auto", "milp") and first:
        found = milp(small, n, time_limit, first)
        if found is not None and (found[1] or method == "milp" or small.value(found[0]) > first_value):
            chosen, optimal, bound, used = found[0], found[1], found[2], "milp"
    if not optimal:
        remaining = time_limit - (time.perf_counter() - started)
        relaxed = lp_bound(small, n, remaining) if remaining > 0 and first else None
        bounds = [
            b for b in (bound, relaxed, first_value / GREEDY_GUARANTEE if first else 0.0) if b is not None
        ]
        bound = max(min(bounds), small.value(chosen))
    ordered = greedy(small, n, among=chosen)  # the chosen, in order of their marginal gains
    return Solution(ordered, small.value(ordered), used, optimal, bound, time.perf_counter() - started)
