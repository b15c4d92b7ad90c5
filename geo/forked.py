"""Work run in a forked process beside the main one, so that two cores share a command's wall time.

``bigcats build`` draws its PNG and PDF (matplotlib, font subsetting) while the main process
merges, measures and writes the HTML map; :class:`Forked` starts the helper process early, before
its inputs exist, so it can import what it needs on the other core, and runs one call in it once
the inputs are ready. :func:`call_forked` runs one call in a process forked now (the call need not
be picklable: the child has the caller's memory).

Where ``fork`` is not available (Windows), or other threads run in the process (a fork copies
the locks they may hold), both run the call in line, in the calling process, so the
results are the same, only slower. An exception raised in the child is raised again in the caller
(the same type when it can be pickled; otherwise ``RuntimeError`` with its message); a child that
dies without answering (killed, out of memory) raises ``RuntimeError`` naming its exit code.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

__all__ = ["Forked", "call_forked", "halves_at_once", "two_cores"]

_A = TypeVar("_A")
_R = TypeVar("_R")


def two_cores() -> bool:
    """Whether this process may run on two cores or more (``sched_getaffinity`` where the system has it)."""
    try:
        return len(os.sched_getaffinity(0)) > 1
    except AttributeError:  # macOS, Windows: the machine's count
        return (os.cpu_count() or 1) > 1


def halves_at_once(fn: Callable[[_A], _R], first: _A, second: _A) -> tuple[_R, _R]:
    """``(fn(first), fn(second))``, the second on a thread while this one does the first.

    For work that releases the GIL (GEOS, NumPy's loops) split in two halves; callers check
    :func:`two_cores` first. An exception of either is raised here.
    """
    with ThreadPoolExecutor(1) as pool:
        later = pool.submit(fn, second)
        return fn(first), later.result()


def _can_fork() -> bool:
    """Fork is available and safe here: no other thread runs that could hold a lock the child needs."""
    import multiprocessing  # (imported where used: 5 ms at start-up)

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _answer(outbox: Connection, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        value = fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the caller, who raises it
        try:
            outbox.send(("error", pickle.dumps(exc)))
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled: its message
            outbox.send(("error", pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))))
        return
    outbox.send(("ok", value))


def _serve(warm: Callable[[], object] | None, call: tuple | None, inbox: Connection | None, outbox: Connection) -> None:
    """The child: warm up, then run ``call`` (already known) or the one call that arrives on ``inbox``."""
    if warm is not None:
        try:
            warm()
        except Exception:  # noqa: BLE001, S110 - warming is an optimisation; the call itself reports errors
            pass
    if call is None:
        assert inbox is not None
        try:
            call = inbox.recv()
        except EOFError:  # the caller gave up before sending anything
            return
    fn, args, kwargs = call
    _answer(outbox, fn, args, kwargs)


class _Waiter:
    """Waits for one answer of a child process."""

    def __init__(self, proc: Any, inbox: Connection) -> None:
        self._proc, self._inbox = proc, inbox

    def result(self) -> Any:
        try:
            status, value = self._inbox.recv()
        except EOFError:
            self._proc.join()
            raise RuntimeError(
                f"the helper process stopped without an answer (exit code {self._proc.exitcode}); "
                "run the command again, and report it if it happens again"
            ) from None
        finally:
            self._inbox.close()
        self._proc.join()
        if status == "error":
            raise pickle.loads(value)
        return value

    def close(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()


class Forked:
    """A process forked now that runs one call later (see the module docstring).

    Parameters
    ----------
    warm : callable, optional
        Run first in the child while the caller goes on (imports, font loading): its errors are
        ignored, the call reports its own.

    Examples
    --------
    >>> job = Forked()
    >>> job.submit(pow, 2, 10)
    >>> job.result()
    1024
    """

    def __init__(self, warm: Callable[[], object] | None = None) -> None:
        self._inline: tuple | None = None
        self._waiter: _Waiter | None = None
        self._send: Connection | None = None
        if not _can_fork():
            return
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        call_in, self._send = ctx.Pipe(duplex=False)
        answer_in, answer_out = ctx.Pipe(duplex=False)
        # not a daemon: the call may fork children of its own (call_forked)
        proc = ctx.Process(target=_serve, args=(warm, None, call_in, answer_out), daemon=False)
        proc.start()
        call_in.close()
        answer_out.close()
        self._waiter = _Waiter(proc, answer_in)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Send the call (``fn`` and its arguments are pickled: ``fn`` must be a module-level function)."""
        if self._send is None:
            self._inline = (fn, args, kwargs)
            return
        self._send.send((fn, args, kwargs))
        self._send.close()
        self._send = None

    def result(self) -> Any:
        """The call's return value; its exception raised again here."""
        if self._waiter is None:
            if self._inline is None:
                raise RuntimeError("Forked.result() before submit()")
            fn, args, kwargs = self._inline
            return fn(*args, **kwargs)
        return self._waiter.result()

    def close(self) -> None:
        """Stop the child if it still runs (after an error in the caller); idempotent."""
        if self._send is not None:
            self._send.close()
            self._send = None
        if self._waiter is not None:
            self._waiter.close()

    def __enter__(self) -> Forked:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def call_forked(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
    """Run ``fn(*args, **kwargs)`` in a process forked now; return a function that waits for its result.

    ``fn`` and the arguments are not pickled (the child has the caller's memory); the return value
    is. Without fork, the call runs when the returned function is called.
    """
    if not _can_fork():
        return lambda: fn(*args, **kwargs)
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    answer_in, answer_out = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_serve, args=(None, (fn, args, kwargs), None, answer_out), daemon=True)
    proc.start()
    answer_out.close()
    return _Waiter(proc, answer_in).result
