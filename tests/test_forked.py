"""geo.forked: a call run in a forked process gives the same result, and its errors, as in line."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from geo.errors import UsageError
from geo.forked import Forked, call_forked


def _pid_and_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def _refuse(message: str) -> None:
    raise UsageError(message)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class _Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("not picklable")


def _raise_unpicklable() -> None:
    raise _Unpicklable("the message survives")


def test_forked_runs_the_call_in_another_process_started_before_it():
    warmed = []
    with Forked(warm=lambda: warmed.append(1)) as job:
        job.submit(_pid_and_square, 12)
        pid, value = job.result()
    assert value == 144
    assert pid != os.getpid()  # the work ran beside this process
    assert warmed == []  # warm-up ran in the child, not here


def test_call_forked_needs_no_pickling_of_the_call():
    local = {"x": 7}
    wait = call_forked(lambda: (os.getpid(), local["x"] * 3))  # a closure: fork, not pickle
    pid, value = wait()
    assert value == 21 and pid != os.getpid()


def test_an_error_in_the_child_is_raised_in_the_caller_with_its_type():
    with Forked() as job:
        job.submit(_refuse, "the font for Chinese text is missing")
        with pytest.raises(UsageError, match="font for Chinese text"):
            job.result()
    with pytest.raises(RuntimeError, match="_Unpicklable: the message survives"):
        call_forked(_raise_unpicklable)()


def test_a_child_that_dies_is_reported_not_waited_for_forever():
    with pytest.raises(RuntimeError, match=r"stopped without an answer \(exit code -9\)"):
        call_forked(_die)()


def test_with_other_threads_running_the_call_runs_in_line():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with Forked() as job:
            job.submit(_pid_and_square, 3)
            assert job.result() == (os.getpid(), 9)
        assert call_forked(_pid_and_square, 4)() == (os.getpid(), 16)
    finally:
        stop.set()
        thread.join()


def test_closing_before_submit_stops_the_child():
    job = Forked()
    job.close()
    job.close()  # idempotent


def test_halves_at_once_gives_both_results_in_order_and_raises_either_error(monkeypatch):
    from geo.forked import halves_at_once, two_cores

    assert halves_at_once(lambda x: x * 2, 3, 5) == (6, 10)
    with pytest.raises(ZeroDivisionError):
        halves_at_once(lambda x: 1 / x, 1, 0)  # the second half's error
    with pytest.raises(ZeroDivisionError):
        halves_at_once(lambda x: 1 / x, 0, 1)
    assert isinstance(two_cores(), bool)
    monkeypatch.delattr("os.sched_getaffinity", raising=False)  # macOS and Windows have none
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert two_cores()
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert not two_cores()
