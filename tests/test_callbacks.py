"""Tests of skbo.callbacks."""

from __future__ import annotations

import math
import pickle
import time
from types import SimpleNamespace

import pytest

from skbo.callbacks import (
    DeadlineStopper,
    DeltaYStopper,
    NoImprovementStopper,
    ProgressBar,
    ThresholdStopper,
    VerboseCallback,
    check_callbacks,
    run_callbacks,
)


def res(*vals: float) -> SimpleNamespace:
    return SimpleNamespace(func_vals=list(vals))


def test_deadline(monkeypatch) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    stop = DeadlineStopper(5)
    assert not stop(res(1.0))
    now[0] = 104.0
    assert not stop(res(1.0))
    now[0] = 105.5
    assert stop(res(1.0))


def test_no_improvement() -> None:
    stop = NoImprovementStopper(patience=2, min_delta=0.1)
    assert not stop(res(5.0))
    assert not stop(res(5.0, 4.95))  # below min_delta: stale 1
    assert stop(res(5.0, 4.95, 6.0))


def test_no_improvement_resets_on_improvement() -> None:
    stop = NoImprovementStopper(patience=2)
    assert not stop(res(5.0))
    assert not stop(res(5.0, 6.0))
    assert not stop(res(5.0, 6.0, 1.0))
    assert not stop(res(5.0, 6.0, 1.0, math.nan))
    assert stop(res(5.0, 6.0, 1.0, math.nan, 2.0))


def test_delta_y_and_threshold() -> None:
    assert not DeltaYStopper(0.01, n_best=2)(res(1.0, 2.0))
    assert DeltaYStopper(0.01, n_best=2)(res(1.0, 1.005, math.nan))
    assert not ThresholdStopper(0.0)(res(math.nan, 1.0))
    assert ThresholdStopper(1.0)(res(math.nan, 1.0))


def test_verbose_and_progress_plain(capsys) -> None:
    VerboseCallback()(res(math.nan))
    bar = ProgressBar(total=3, use_tqdm=False)
    bar(res(1.0, 2.0))
    out = capsys.readouterr().out
    assert "best -" in out and "2/3" in out


def test_progress_tqdm() -> None:
    pytest.importorskip("tqdm")
    bar = ProgressBar(total=3, use_tqdm=True)
    assert bar(res(1.0)) is False
    assert bar(res(1.0, 0.5)) is False
    pickle.dumps(bar)
    bar.close()


def test_check_and_run() -> None:
    assert check_callbacks(None) == []
    cbs = check_callbacks([lambda r: False, lambda r: True])
    assert run_callbacks(cbs, res(1.0))
    with pytest.raises(TypeError, match=r"callback\[1\]"):
        check_callbacks([print, 3])
    with pytest.raises(TypeError, match="callback must be"):
        check_callbacks(3)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: DeadlineStopper(0), "total_time"),
        (lambda: NoImprovementStopper(0), "patience"),
        (lambda: NoImprovementStopper(2, min_delta=-1), "min_delta"),
        (lambda: DeltaYStopper(0), "delta"),
        (lambda: DeltaYStopper(0.1, n_best=1), "n_best"),
        (lambda: ThresholdStopper(math.inf), "threshold"),
    ],
)
def test_bad_arguments(factory, match) -> None:
    with pytest.raises(ValueError, match=match):
        factory()
