"""Per-request cost and memory of restflow's client next to the tools it is built on.

Run from the repository root::

    python tests/benchmarks/bench_client.py [--rounds 10] [--requests 200]
    python tests/benchmarks/bench_client.py --docs   # rewrite the docs' figures

Every path sends the same JSON body to the same DRF view, in one process,
taking turns request by request so that drift in machine speed hits them
all alike. The table gives the median cost of one request on each path and
ratios taken within this one run. A second table gathers N requests to a
view that awaits 50 ms, against the same N sent one after another. A third
gives the peak memory of a 50 MB raw upload and a 50 MB download through
restflow's client and Django's ``AsyncClient``, traced with ``tracemalloc``.

``--docs`` writes the figures the performance page shows
(``docs/_figures/client.md``) and its chart (``docs/img/performance.png``,
which needs matplotlib: ``pip install -e ".[benchmark]"``).

This is a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import django
import rest_framework
from _suites import ROOT, write_figure
from django.conf import settings

sys.path.insert(0, str(ROOT))

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "rest_framework",
    ],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    # The memory measurement sends 50 MB; the upload view reads it as a stream.
    DATA_UPLOAD_MAX_MEMORY_SIZE=None,
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

from adrf.views import APIView as AsyncAPIView  # noqa: E402
from asgiref.sync import async_to_sync, sync_to_async  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import AsyncClient  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from restflow.test import AsyncAPIClient, AsyncAPIRequestFactory  # noqa: E402

BODY = {"name": "Phone", "price": 499, "tags": ["new", "sale"], "stock": {"eu": 3}}
PAYLOAD = json.dumps(BODY).encode()


class Echo(APIView):
    def post(self, request: Request) -> Response:
        return Response({"received": request.data})


class Sleeper(AsyncAPIView):
    async def get(self, request: Request) -> Response:
        await asyncio.sleep(0.05)
        return Response({"slept": True})


#: The size of the body in the memory measurement.
BIG = 50 * 1024 * 1024


def upload(request: HttpRequest) -> HttpResponse:
    """Read a raw upload as a stream, as an upload view would."""
    received = 0
    while chunk := request.read(1 << 16):
        received += len(chunk)
    return HttpResponse(str(received))


def download(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"x" * BIG, content_type="application/octet-stream")


echo_view = Echo.as_view()
urlpatterns = [
    path("echo/", echo_view),
    path("upload/", upload),
    path("download/", download),
]


def _asgi_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/echo/",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(PAYLOAD)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _production_handler(handler: ASGIHandler) -> None:
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            await asyncio.sleep(3600)  # a real server would wait for disconnect
        delivered = True
        return {"type": "http.request", "body": PAYLOAD, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await handler(_asgi_scope(), receive, send)
    assert sent[0]["status"] == 200, sent


def build_paths() -> dict[str, Callable[[], Awaitable[Any]]]:
    restflow_client = AsyncAPIClient()
    django_client = AsyncClient()
    drf_client = APIClient()
    handler = ASGIHandler()
    factory = AsyncAPIRequestFactory()
    sync_post = sync_to_async(drf_client.post)
    direct_view = sync_to_async(echo_view)

    async def restflow() -> Any:
        return await restflow_client.post("/echo/", BODY, format="json")

    async def django_async_client() -> Any:
        return await django_client.post("/echo/", BODY, content_type="application/json")

    async def drf_sync_client() -> Any:
        return await sync_post("/echo/", BODY, format="json")

    async def production() -> Any:
        return await _production_handler(handler)

    async def view_call() -> Any:
        return await direct_view(factory.post("/echo/", BODY, format="json"))

    return {
        "restflow AsyncAPIClient": restflow,
        "Django AsyncClient": django_async_client,
        "DRF APIClient (sync)": drf_sync_client,
        "Django ASGIHandler (scope)": production,
        "direct view call (factory)": view_call,
    }


async def measure(rounds: int, requests: int) -> dict[str, list[float]]:
    """Time every request on its own, taking turns between the paths.

    Taking turns request by request (and rotating who goes first each round)
    means a slow patch of the machine lands on all paths alike, so the
    ratios stay steady even when the absolute times drift.
    """
    paths = list(build_paths().items())
    for _, send in paths:  # warm up middleware chains and caches
        for _ in range(50):
            await send()
    samples: dict[str, list[float]] = {name: [] for name, _ in paths}
    for round_number in range(rounds):
        turn = paths[round_number % len(paths) :] + paths[: round_number % len(paths)]
        for _ in range(requests):
            for name, send in turn:
                started = time.perf_counter()
                await send()
                samples[name].append(time.perf_counter() - started)
    return samples


async def concurrency(n: int) -> tuple[float, float]:
    client = AsyncAPIClient()
    sleeper = Sleeper.as_view()
    urlpatterns.append(path("sleep/", sleeper))
    started = time.perf_counter()
    await asyncio.gather(*(client.get("/sleep/") for _ in range(n)))
    gathered = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(n):
        await client.get("/sleep/")
    sequential = time.perf_counter() - started
    return gathered, sequential


async def memory() -> dict[str, dict[str, float]]:
    """Peak memory, in MB, that one 50 MB upload and one 50 MB download add.

    The upload's body exists before the measurement starts, so only what
    the client and the view allocate to deliver it counts; the download's
    body is made by the view, so one copy is the least it can cost.
    """
    clients: dict[str, Callable[[], Any]] = {
        "restflow AsyncAPIClient": AsyncAPIClient,
        "Django AsyncClient": AsyncClient,
    }
    payload = b"u" * BIG
    peaks: dict[str, dict[str, float]] = {}
    for name, make_client in clients.items():
        client = make_client()
        peaks[name] = {}
        for case in ("upload", "download"):
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            if case == "upload":
                response = await client.post(
                    "/upload/", payload, content_type="application/octet-stream"
                )
                assert response.content == str(BIG).encode(), response.content[:80]
            else:
                response = await client.get("/download/")
                assert len(response.content) == BIG
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            del response
            peaks[name][case] = (peak - before) / 2**20
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--gather", type=int, default=40)
    parser.add_argument(
        "--docs",
        action="store_true",
        help="write docs/_figures/client.md and docs/img/performance.png",
    )
    args = parser.parse_args()

    load = os.getloadavg()[0]
    samples = async_to_sync(measure)(args.rounds, args.requests)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    gathered, sequential = async_to_sync(concurrency)(args.gather)
    peaks = async_to_sync(memory)()
    figures = render(args, medians, gathered, sequential, peaks, load)
    print(figures)
    if args.docs:
        write_figure("client", "bench_client.py", figures)
        write_chart(medians, CHART)
        print(f"wrote {CHART.relative_to(ROOT)}")


CHART = ROOT / "docs" / "img" / "performance.png"


def render(
    args: argparse.Namespace,
    medians: dict[str, float],
    gathered: float,
    sequential: float,
    peaks: dict[str, dict[str, float]],
    load: float,
) -> str:
    """The figures as the Markdown the performance page includes."""
    import asgiref

    ours = medians["restflow AsyncAPIClient"]
    lines = [
        f"Measured with Python {platform.python_version()}, Django "
        f"{django.__version__}, Django REST framework {rest_framework.VERSION}, "
        f"asgiref {asgiref.__version__}, on {os.cpu_count()} CPUs (load average "
        f"{load:.1f} at the start), with `--rounds {args.rounds} --requests "
        f"{args.requests} --gather {args.gather}`: the median of "
        f"{args.rounds * args.requests} requests per path.",
        "",
        "| Path | µs per request | restflow's time ÷ this path's |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {name} | {value * 1e6:.0f} | {ours / value:.3f} |"
        for name, value in medians.items()
    ]
    lines += [
        "",
        f"{args.gather} requests to a view that awaits 50 ms, through one client:",
        "",
        "| | Time |",
        "|---|---:|",
        f"| gathered with `asyncio.gather()` | {gathered:.3f} s |",
        f"| one after another | {sequential:.3f} s "
        f"({sequential / gathered:.1f} times as long) |",
        "",
        f"Peak memory added by one {BIG // 2**20} MB request (traced with "
        "`tracemalloc`; the upload's body exists beforehand, the download's is "
        "made by the view):",
        "",
        "| Client | 50 MB raw upload | 50 MB download |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {name} | {case['upload']:.1f} MB | {case['download']:.1f} MB |"
        for name, case in peaks.items()
    ]
    return "\n".join(lines) + "\n"


def write_chart(medians: dict[str, float], target: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("--docs draws a chart with matplotlib: pip install -e '.[benchmark]'")
    names = list(medians)
    values = [medians[n] * 1e6 for n in names]
    figure, axes = plt.subplots(figsize=(8, 3.2))
    axes.barh(names[::-1], values[::-1], color="#3b6ea5")
    axes.set_xlabel("µs per request (median, lower is better)")
    for y, value in enumerate(values[::-1]):
        axes.text(value, y, f" {value:.0f}", va="center")
    figure.tight_layout()
    figure.savefig(target, dpi=120)


if __name__ == "__main__":
    main()
