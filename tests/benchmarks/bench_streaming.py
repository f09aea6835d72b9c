"""Memory of reading a large stream through ``client.stream()``.

Run from the repository root::

    python tests/benchmarks/bench_streaming.py [--megabytes 1024]
    python tests/benchmarks/bench_streaming.py --docs   # rewrite the docs' figures

A view streams N MB from an async iterator, 1 MB at a time; the test reads
it with ``aiter_bytes()`` and keeps only a running count. The client holds
at most a few chunks at a time (an ASGI server's ``send()`` waits while the
network is busy; the client's does the same), so the memory the process
needs does not grow with the size of the stream. Reported: the peak of the
memory Python allocated while the stream was read (``tracemalloc``), and
the growth of the process's peak resident size over the run.

``--docs`` writes the figures the streaming page shows
(``docs/_figures/streaming.md``).

This is a measurement, not a test: nothing here asserts a size.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator

import django
from _suites import ROOT, write_figure
from django.conf import settings

sys.path.insert(0, str(ROOT))

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
)
django.setup()

from asgiref.sync import async_to_sync  # noqa: E402
from django.http import HttpRequest, StreamingHttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

from restflow.test import AsyncAPIClient  # noqa: E402

MEGABYTE = 2**20


async def export(request: HttpRequest) -> StreamingHttpResponse:
    megabytes = int(request.GET["mb"])

    async def body() -> AsyncIterator[bytes]:
        for _ in range(megabytes):
            yield b"x" * MEGABYTE

    return StreamingHttpResponse(body(), content_type="application/octet-stream")


urlpatterns = [path("export/", export)]


def max_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def read(megabytes: int) -> tuple[int, float, float, float]:
    client = AsyncAPIClient()
    await client.get("/export/?mb=1")  # load the middleware before measuring
    rss_before = max_rss_mb()
    tracemalloc.start()
    started = time.perf_counter()
    received = 0
    async with client.stream("GET", f"/export/?mb={megabytes}") as response:
        async for chunk in response.aiter_bytes():
            received += len(chunk)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / MEGABYTE
    tracemalloc.stop()
    return received, peak, max_rss_mb() - rss_before, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument(
        "--docs", action="store_true", help="write docs/_figures/streaming.md"
    )
    args = parser.parse_args()
    received, peak, rss_growth, elapsed = async_to_sync(read)(args.megabytes)
    assert received == args.megabytes * MEGABYTE, received
    figures = (
        f"Measured with Python {platform.python_version()}, Django "
        f"{django.__version__}, with `--megabytes {args.megabytes}`:\n\n"
        "| Streamed through `aiter_bytes()` | Peak memory allocated while "
        "reading | Growth of the process's peak resident size | Time |\n"
        "|---|---:|---:|---:|\n"
        f"| {received / MEGABYTE:.0f} MB | {peak:.1f} MB | {rss_growth:.1f} MB "
        f"| {elapsed:.1f} s |\n"
    )
    print(figures)
    if args.docs:
        write_figure("streaming", "bench_streaming.py", figures)


if __name__ == "__main__":
    main()
