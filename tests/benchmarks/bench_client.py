"""Per-request cost of restflow's client next to the tools it is built on.

Run from the repository root::

    python tests/benchmarks/bench_client.py [--rounds 10] [--requests 200]
    python tests/benchmarks/bench_client.py --chart docs/img/performance.png

Every path sends the same JSON body to the same DRF view, in one process,
taking turns request by request so that drift in machine speed hits them
all alike. The table gives the median cost of one request on each path and
ratios taken within this one run. A second table gathers N requests to a
view that awaits 50 ms, against the same N sent one after another.

This is a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import django
import rest_framework
from django.conf import settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

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


echo_view = Echo.as_view()
urlpatterns = [path("echo/", echo_view)]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--gather", type=int, default=40)
    parser.add_argument("--chart", type=Path, help="write a PNG bar chart here")
    args = parser.parse_args()

    samples = async_to_sync(measure)(args.rounds, args.requests)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    ours = medians["restflow AsyncAPIClient"]
    print(
        f"Per-request cost, median of {args.rounds * args.requests} requests per "
        f"path, taking turns (Python {sys.version.split()[0]}, "
        f"Django {django.__version__}, DRF {rest_framework.VERSION})"
    )
    print(f"{'path':<30} {'µs/request':>11} {'restflow ÷ this':>16}")
    for name, value in medians.items():
        print(f"{name:<30} {value * 1e6:>11.1f} {ours / value:>16.3f}")
    gathered, sequential = async_to_sync(concurrency)(args.gather)
    print()
    print(f"{args.gather} requests to a view that awaits 50 ms, through one client:")
    print(f"  gathered   {gathered:6.3f} s")
    print(f"  sequential {sequential:6.3f} s   ({sequential / gathered:.1f}x longer)")
    if args.chart:
        write_chart(medians, args.chart)
        print(f"\nchart written to {args.chart}")


def write_chart(medians: dict[str, float], target: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("--chart needs matplotlib: pip install 'restflow[benchmark]'")
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
