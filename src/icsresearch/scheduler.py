"""Dask schedulers given by the user: check the address, probe it, connect, and say what failed.

Three things run on a Dask cluster when asked: the report batch (``--scheduler``), the
robustness multiverse and ``fit_glm`` on Parquet data (``scheduler=``). Each accepts a scheduler
address or a ``distributed.Client``; :func:`connected` is the one way they get a client, so a
malformed address is refused at once, an address where nothing (or no Dask scheduler) answers
fails within a few seconds with the system's reason, and a client made here is closed after use.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from .errors import InvalidParameterError, shorten

#: The protocols a Dask scheduler address may name.
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


def check_scheduler_address(address: str, option: str = "--scheduler") -> str:
    """Check the form of a Dask scheduler address before connecting (``tcp://HOST:PORT``).

    ``HOST:PORT`` alone means tcp. A malformed address is refused at once instead of after a
    connection timeout.

    Parameters
    ----------
    address
        The address asked for.
    option
        How the user gave it, for the message (``"--scheduler"``, ``"scheduler="``).

    Returns
    -------
    str
        The address with its scheme, e.g. ``"tcp://127.0.0.1:8786"``.

    Raises
    ------
    InvalidParameterError
        Not ``scheme://host:port`` with a known scheme and a port from 1 to 65535.
    """
    text = str(address).strip()
    raw = text if "://" in text else f"tcp://{text}"
    problem = None
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        parts, port, problem = None, None, "its port is not a number from 1 to 65535"
    if parts is not None:
        if parts.scheme not in SCHEDULER_SCHEMES:
            problem = (
                f"{parts.scheme or 'no'} is not a Dask protocol ({', '.join(SCHEDULER_SCHEMES)})"
            )
        elif not parts.hostname:
            problem = "it names no host"
        elif not port:
            problem = "it has no port (a Dask scheduler listens on one, by default 8786)"
        elif parts.path.strip("/") or parts.query or parts.fragment or parts.username:
            problem = "it has more than a host and a port"
    if problem:
        raise InvalidParameterError(
            f"{option} {shorten(text)}: not a Dask scheduler address: {problem}.\n"
            "  Fix: give it as tcp://HOST:PORT, the address `dask scheduler` prints (e.g. "
            "tcp://127.0.0.1:8786)."
        )
    return raw


def cannot_connect(
    address: str, timeout: float, why: str, option: str = "--scheduler"
) -> InvalidParameterError:
    """The error for an address where no Dask scheduler could be reached.

    Parameters
    ----------
    address
        The address.
    timeout
        Seconds waited.
    why
        What went wrong, in a few words.
    option
        How the user gave the address, for the message.
    """
    return InvalidParameterError(
        f"{option} {shorten(address)}: cannot connect to a Dask scheduler there within "
        f"{timeout:g} s ({why}).\n"
        "  Fix: start one (`dask scheduler` and `dask worker <address>`), check the address, "
        f"or leave {option} out to run here."
    )


def probe_scheduler(address: str, timeout: float = 5.0, option: str = "--scheduler") -> str:
    """Check that a Dask scheduler answers at an address, before anything is written.

    A socket connection with a short timeout first (a refused, unknown or unreachable address
    fails in at most ``timeout`` seconds, with the system's reason), then, for ``tcp://``, one
    ``identity`` request with a hard time limit (a server that is not Dask's never makes the
    caller hang). Dask's own client would retry for its whole timeout. ``tls``, ``wss`` and
    ``ucx`` addresses are left to Dask's client.

    Parameters
    ----------
    address
        A checked address (:func:`check_scheduler_address`).
    timeout
        Seconds to wait for the connection.
    option
        How the user gave the address, for the message.

    Returns
    -------
    str
        The address.

    Raises
    ------
    InvalidParameterError
        Nothing accepts connections there, or what does is not a Dask scheduler.
    """
    parts = urlsplit(address)
    if parts.scheme in ("tcp", "ws") and parts.hostname and parts.port:
        # a refused or unknown host fails here at once, with the system's own words
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
                pass
        except TimeoutError:
            raise cannot_connect(address, timeout, "no answer", option) from None
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise cannot_connect(address, timeout, why, option) from None
    if parts.scheme != "tcp":
        return address  # tls, ws, wss, ucx: left to Dask's client (its own timeout)
    # something answers: is it a Dask scheduler? One request, with a hard time limit (a server
    # that is not Dask's may never answer, or answer with bytes Dask cannot decode)
    import asyncio

    async def identity() -> dict:
        from distributed.core import rpc

        async with rpc(address, timeout=timeout) as scheduler:
            return await scheduler.identity()

    from concurrent.futures import ThreadPoolExecutor

    try:
        # on its own thread: the caller may be where an event loop runs (a notebook)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="icsr-probe") as pool:
            reply = pool.submit(asyncio.run, asyncio.wait_for(identity(), timeout)).result()
    except TimeoutError:
        raise cannot_connect(address, timeout, "no answer from a Dask scheduler", option) from None
    except Exception as exc:  # anything else means: not a Dask scheduler we can talk to
        why = f"not a Dask scheduler: {type(exc).__name__}"
        raise cannot_connect(address, timeout, why, option) from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        why = "what answers there is not a Dask scheduler"
        raise cannot_connect(address, timeout, why, option) from None
    return address


def check_scheduler(scheduler: Any, option: str = "scheduler=") -> Any:
    """Check what the user gave as a scheduler, before any work: a client, or a well-formed address.

    Parameters
    ----------
    scheduler
        ``"tcp://host:8786"`` (or ``"host:8786"``) or a ``distributed.Client``.
    option
        How the user gave it, for messages (``"scheduler="``, ``"--scheduler"``).

    Returns
    -------
    distributed.Client or str
        The client as it is, or the address with its scheme.

    Raises
    ------
    InvalidParameterError
        Neither an address nor a client, or a malformed address.
    """
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler
    if not isinstance(scheduler, str):
        raise InvalidParameterError(
            f"{option} {shorten(scheduler)} is neither a Dask scheduler address nor a "
            "distributed.Client.\n  Fix: pass 'tcp://host:8786' or a distributed.Client, or "
            f"leave {option} out to run here."
        )
    return check_scheduler_address(scheduler, option)


@contextlib.contextmanager
def connected(
    scheduler: Any, *, option: str = "scheduler=", timeout: float = 10.0
) -> Iterator[Any]:
    """A ``distributed.Client`` for a scheduler given as an address or as a client.

    A client is used as it is (and left open); for an address the form is checked
    (:func:`check_scheduler`), the scheduler probed (:func:`probe_scheduler`), and the client
    made here is closed on leaving.

    Parameters
    ----------
    scheduler
        ``"tcp://host:8786"`` (or ``"host:8786"``) or a ``distributed.Client``.
    option
        How the user gave it, for messages (``"scheduler="``, ``"--scheduler"``).
    timeout
        Seconds to wait for the scheduler.

    Yields
    ------
    distributed.Client

    Raises
    ------
    InvalidParameterError
        Neither an address nor a client, a malformed address, or no scheduler there.
    """
    from distributed import Client

    checked = check_scheduler(scheduler, option)
    if not isinstance(checked, str):
        yield checked
        return
    address = probe_scheduler(checked, timeout, option)
    try:
        client = Client(address, timeout=f"{timeout}s", set_as_default=False)
    except Exception as exc:  # the probe passed, but the client could not start after all
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise cannot_connect(address, timeout, why, option) from None
    try:
        yield client
    finally:
        client.close()
