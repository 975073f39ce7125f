"""Load test of the API under gunicorn on loopback, beside a trivial endpoint of the same server (the aims in bench/README.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nymble_load REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/load.py [--seconds 20] [--workers 4] [--connections 16] [--reseed]

About 3 minutes with the defaults once seeded; the first run seeds in about 20-30 s more.

1. Database: (re)creates the one named in DATABASE_URL (PostgreSQL only, dropped and created
   through the `postgres` maintenance database) unless it already holds this seed with the right
   counts (then it is reused; `--reseed` forces a fresh one), migrates it and seeds it with
   bench/load_seed.py: 100,000 customers of which 2,000 are the rep's, 10,000 products x 5
   tiers, the rep's and a portal contact's logins; VACUUM ANALYZE.
2. Server: `gunicorn nymble.wsgi -w N` (sync workers, as in the README) on a free loopback port
   with DEBUG=0, DATABASE_URL, REDIS_URL and the production settings; always stopped at the end.
3. Load: a second process (a stdlib asyncio HTTP/1.1 client, keep-alive when the server allows
   it) keeps `--connections` requests in flight against one endpoint at a time and counts the
   requests completed in the measured window only. Each endpoint gets `--seconds` measured
   seconds in `--rounds` slices, the endpoints taking turns (baseline, customers, products,
   orders, baseline, …), so that other work on the machine weighs on each alike; a warm-up
   (`--warmup` before an endpoint's first slice, 1 s before the others) is not counted:
     baseline   GET  /api/organizations/{orgId} as the rep (authentication + one query)
     customers  GET  /api/customers?PageSize=25 as the rep (2,000 of the 100,000 are its)
     products   GET  /api/products?PageSize=25 as a portal user (10,000 products x 5 tiers)
     orders     POST /api/orders as the rep: 20 random lines for a random one of its customers,
                a fresh Idempotency-Key each (orders accumulate in the database)
   `--variants` adds page 40 of the customers, a customer search and page 200 of the products.
   Latency is from sending (or connecting, as gunicorn's sync workers close every connection)
   to the last byte of the response. Errors are non-2xx answers and failed connections.
4. Prints per endpoint: requests, req/s, p50, p99, errors by status, req/s as a ratio of the
   baseline, and the CPU used meanwhile (gunicorn workers, PostgreSQL, the load client) per
   request; then whether the aims are met (no errors; each list >= 40% of the baseline, a 20-line
   order >= 25%).
5. Profiles the slowest endpoint (and the slowest list endpoint, when that is another one)
   in-process (Django test client, no server) under cProfile: time per layer, top functions, its
   queries with EXPLAIN ANALYZE; then the query counts as page size and line count grow, and
   what a new database connection costs. `--profile NAME|all|none` chooses.

`--conn-max-age S` is an experiment: it passes `?conn_max_age=S` in the server's DATABASE_URL
(persistent database connections, which the shipped settings leave off). `--app MODULE` is another:
gunicorn serves MODULE instead of nymble.wsgi (a scratch module that patches in a prototype fix).
Exits non-zero only when the set-up or the smoke check of an endpoint fails; a missed aim is printed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import platform
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

AIM_LIST_RATIO = 0.40
AIM_ORDER_RATIO = 0.25  # a 20-line order
LIST_ENDPOINTS = ("customers", "products", "customers p40", "customers search", "products p200")
REQUEST_TIMEOUT = 30.0


# =============================================================== load client (second process)


def _build_request(spec: dict, rng: random.Random) -> bytes:
    head = [f"{spec['method']} {spec['path']} HTTP/1.1", f"Host: {spec['host']}",
            f"Authorization: Bearer {spec['token']}", "Accept: application/json", "Connection: keep-alive"]
    body = b""
    if spec["method"] == "POST":
        lines = rng.sample(spec["skus"], spec["lines"])
        payload = {
            "Customer": {"CustomerNumber": rng.choice(spec["customers"])},
            "PONumber": f"LOAD-{rng.randrange(10**9)}",
            "Items": [{"Sku": sku, "Quantity": rng.randint(1, 12)} for sku in lines],
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}",
                 f"Idempotency-Key: load-{uuid.uuid4().hex}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    version, status = lines[0].split(b" ", 2)[:2]
    length, chunked, close = None, False, version == b"HTTP/1.0"
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection":
            close = value == b"close"
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(chunk[:-2])
        body = b"".join(parts)
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body, close = await reader.read(), True
    return int(status), close, body


async def _client(cfg: dict) -> dict:
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + cfg["warmup"]
    measure_to = measure_from + cfg["seconds"]
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: Counter = Counter()
    samples: dict[str, str] = {}
    usage = {}

    async def markers():
        await asyncio.sleep(max(0.0, measure_from - loop.time()))
        usage["from"] = resource.getrusage(resource.RUSAGE_SELF)
        print("measure-start", flush=True)
        await asyncio.sleep(max(0.0, measure_to - loop.time()))
        usage["to"] = resource.getrusage(resource.RUSAGE_SELF)
        print("measure-end", flush=True)

    async def exchange(state: dict, request: bytes):
        if state.get("writer") is None:
            state["reader"], state["writer"] = await asyncio.open_connection(cfg["host_ip"], cfg["port"])
        state["writer"].write(request)
        await state["writer"].drain()
        return await _read_response(state["reader"])

    def drop(state: dict):
        writer = state.pop("writer", None)
        if writer is not None:
            writer.close()

    async def connection(index: int):
        rng = random.Random(cfg["seed"] * 1000 + index)
        state: dict = {}
        while loop.time() < measure_to:
            request = _build_request(cfg["spec"], rng)
            began = loop.time()
            try:
                status, close, body = await asyncio.wait_for(exchange(state, request), REQUEST_TIMEOUT)
                outcome = status
                if close:
                    drop(state)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                    ValueError, IndexError) as exc:
                drop(state)
                outcome, body = type(exc).__name__, str(exc).encode()
            done = loop.time()
            if measure_from <= done <= measure_to:
                latencies.append((done - began) * 1000)
                statuses[str(outcome)] += 1
                if not (isinstance(outcome, int) and 200 <= outcome < 300):
                    errors[str(outcome)] += 1
                    samples.setdefault(str(outcome), body[:300].decode("utf-8", "replace"))
        drop(state)

    marker = asyncio.ensure_future(markers())
    await asyncio.gather(*(connection(i) for i in range(cfg["connections"])))
    await marker
    cpu = sum(getattr(usage["to"], f) - getattr(usage["from"], f) for f in ("ru_utime", "ru_stime"))
    return {"latencies": latencies, "statuses": dict(statuses), "errors": dict(errors), "samples": samples,
            "window": cfg["seconds"], "client_cpu": cpu}


def client_main() -> None:
    cfg = json.loads(sys.stdin.read())
    result = asyncio.run(_client(cfg))
    print("result " + json.dumps(result), flush=True)


# =============================================================== CPU accounting (from /proc)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid) -> tuple[str, list[str]] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    return comm, raw[raw.rindex(")") + 2 :].split()  # fields from `state` (field 3) on


def _cmdline(pid) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def cpu_snapshot(master_pid: int, dbname: str) -> dict:
    """CPU seconds so far of gunicorn's workers, of each live PostgreSQL backend of this database,
    of what the postmaster has reaped (the backends of closed connections, which may include
    other databases' short connections), and of the whole machine. `cpu_delta` combines two."""
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(entry)
            if stat:
                procs[int(entry)] = stat
    workers = reaped = 0.0
    backends = {}
    for pid, (comm, f) in procs.items():
        ppid, own = int(f[1]), (int(f[11]) + int(f[12])) / CLK_TCK
        if ppid == master_pid:
            workers += own
        elif comm == "postgres":
            parent = procs.get(ppid)
            if parent is None or parent[0] != "postgres":  # the postmaster
                reaped += (int(f[13]) + int(f[14])) / CLK_TCK
            elif f" {dbname} " in _cmdline(pid):  # "postgres: 15/main: user dbname host(port) state"
                backends[pid] = own
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    idle = cpu[3] + cpu[4]
    return {"workers": workers, "backends": backends, "reaped": reaped, "busy": (sum(cpu) - idle) / CLK_TCK,
            "t": time.monotonic()}


def cpu_delta(a: dict, b: dict, count_reaped: bool) -> dict:
    """CPU seconds between two snapshots. PostgreSQL: what this database's backends used; with
    `count_reaped` (the server closes its connections after each request) the backends that
    ended meanwhile are counted through the postmaster's reaped total, less what they had used
    before the first snapshot; without, a backend that ended meanwhile counts for nothing more."""
    postgres = sum(used - a["backends"].get(pid, 0.0) for pid, used in b["backends"].items())
    if count_reaped:
        ended_before = sum(used for pid, used in a["backends"].items() if pid not in b["backends"])
        postgres += b["reaped"] - a["reaped"] - ended_before
    return {"workers": b["workers"] - a["workers"], "postgres": max(0.0, postgres), "busy": b["busy"] - a["busy"],
            "wall": b["t"] - a["t"]}


# =============================================================== server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port: int, method: str, path: str, token: str | None = None, body: dict | None = None,
         headers: dict | None = None, timeout: float = 30):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = {"Accept": "application/json", **(headers or {})}
        data = None
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw[:300]
    finally:
        conn.close()


class Server:
    def __init__(self, workers: int, env: dict, app: str = "nymble.wsgi"):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="nymble-load-gunicorn-", suffix=".log", delete=False)
        self.cmd = [sys.executable, "-m", "gunicorn", app, "-w", str(workers), "-b",
                    f"127.0.0.1:{self.port}", "--log-level", "warning", "--timeout", "60",
                    "--graceful-timeout", "5"]
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                http(self.port, "GET", "/api/organizations/none", timeout=5)  # any answer (401) will do
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        self.log.flush()
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the session gunicorn was started in: master and workers
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        self.log.close()


# =============================================================== phases


def run_phase(name: str, spec: dict, args, server: Server, seed: int, warmup: float, seconds: float,
              dbname: str) -> dict:
    """One bounded run of the load client against one endpoint; its raw figures."""
    cfg = {"host_ip": "127.0.0.1", "port": server.port, "spec": {**spec, "host": f"127.0.0.1:{server.port}"},
           "connections": args.connections, "warmup": warmup, "seconds": seconds, "seed": seed}
    errors = tempfile.TemporaryFile(mode="w+")  # not a pipe: a chatty client must not block on it
    proc = subprocess.Popen([sys.executable, __file__, "--client"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=errors, text=True, cwd=ROOT)
    snaps = {}
    try:
        proc.stdin.write(json.dumps(cfg))
        proc.stdin.close()
        result = None
        for line in proc.stdout:
            if line.startswith("measure-start"):
                snaps["from"] = cpu_snapshot(server.proc.pid, dbname)
            elif line.startswith("measure-end"):
                snaps["to"] = cpu_snapshot(server.proc.pid, dbname)
            elif line.startswith("result "):
                result = json.loads(line[len("result "):])
        proc.wait(timeout=REQUEST_TIMEOUT + 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    errors.seek(0)
    stderr = errors.read()
    errors.close()
    if result is None:
        raise RuntimeError(f"load client for {name} failed (exit {proc.returncode}):\n{stderr[-2000:]}")
    a, b = snaps.get("from"), snaps.get("to")
    result["cpu"] = cpu_delta(a, b, count_reaped=not args.conn_max_age) if a and b else {}
    return result


def combine(name: str, parts: list[dict]) -> dict:
    """The rounds of one endpoint as one measurement."""
    lat = sorted(x for part in parts for x in part["latencies"])
    errors: Counter = Counter()
    samples: dict = {}
    for part in parts:
        errors.update(part["errors"])
        for status, text in part["samples"].items():
            samples.setdefault(status, text)
    window = sum(part["window"] for part in parts)
    cpu: Counter = Counter()
    for part in parts:
        cpu.update(part["cpu"])
    return {
        "name": name, "requests": len(lat), "rps": len(lat) / window, "window": window,
        "p50": percentile(lat, 50), "p99": percentile(lat, 99), "error_count": sum(errors.values()),
        "errors": dict(errors), "samples": samples, "client_cpu": sum(part["client_cpu"] for part in parts),
        "cpu": dict(cpu) if all(part["cpu"] for part in parts) else {},
    }


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


# =============================================================== database and seed


def prepare_database(url: str, reseed: bool) -> dict:
    import load_seed

    t_all = time.perf_counter()
    fresh = reseed or not load_seed.database_exists(url)
    if fresh:
        load_seed.recreate_database(url)
    django_setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    counts = load_seed.seeded_counts()
    timings = {}
    if counts != load_seed.EXPECTED:
        if counts is not None or not fresh:
            print(f"database {load_seed.database_name(url)} holds another data set ({counts}): re-creating it")
            connection.close()
            load_seed.recreate_database(url)
            call_command("migrate", verbosity=0)
        timings = load_seed.load()
        counts = load_seed.seeded_counts()
        if counts != load_seed.EXPECTED:
            raise SystemExit(f"seed check failed: {counts} != {load_seed.EXPECTED}")
        how = "seeded"
    else:
        how = "reused (already seeded; --reseed forces a fresh one)"
    return {"how": how, "timings": timings, "seconds": time.perf_counter() - t_all, "counts": counts}


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nymble.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/load.py needs PostgreSQL (DATABASE_URL); refusing to run on " + connection.vendor)


def with_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query] + [f"{k}={v}" for k, v in params.items()]))
    return urlunsplit(parts._replace(query=query))


# =============================================================== in-process profile


class QueryLog:
    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, params, (time.perf_counter() - t0) * 1000))


def _layer(filename: str, funcname: str) -> str:
    text = f"{filename} {funcname}"
    if "psycopg" in text:
        return "psycopg (PostgreSQL round trips, row decoding)"
    if "/django/db/" in text:
        return "django.db (ORM: SQL compile, model instances)"
    if "/rest_framework_simplejwt/" in text or "/jwt/" in text:
        return "JWT (simplejwt, PyJWT)"
    if "/rest_framework/" in text:
        return "rest_framework (views, serializers, fields)"
    if "/django_filters/" in text or "/django/forms/" in text:
        return "django-filter / forms"
    if "/simplejson/" in text or "json" in funcname:
        return "JSON encode/decode"
    if "/django/" in text:
        return "django (other: middleware, handlers, utils)"
    if str(ROOT) in filename and "/.venv/" not in filename:
        return "project code"
    return "other (stdlib, builtins)"


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename.replace(str(ROOT) + "/", "")


def profile_endpoint(name: str, spec: dict, n: int) -> None:
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    rng = random.Random(7)

    def call():
        headers = {"HTTP_AUTHORIZATION": f"Bearer {spec['token']}"}
        if spec["method"] == "POST":
            raw = _build_request({**spec, "host": "x"}, rng)
            body = raw.split(b"\r\n\r\n", 1)[1]
            response = client.post(spec["path"], data=body, content_type="application/json",
                                   HTTP_IDEMPOTENCY_KEY=f"load-prof-{uuid.uuid4().hex}", **headers)
        else:
            response = client.get(spec["path"], **headers)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"{name}: {response.status_code} {response.content[:300]!r}")
        return response

    for _ in range(10):
        call()
    t0 = time.perf_counter()
    for _ in range(n):
        call()
    plain_ms = (time.perf_counter() - t0) * 1000 / n

    log = QueryLog()
    rounds = 20
    with connection.execute_wrapper(log):
        for _ in range(rounds):
            call()
    per_request = len(log.queries) / rounds
    sql_ms = sum(q[2] for q in log.queries) / rounds

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(tt for (_, _, tt, _, _) in stats.stats.values())

    print(f"\n== profile: {name} ({spec['method']} {spec['path']}), in-process Django test client, "
          f"{n} requests, no server, database connection kept open")
    print(f"   {plain_ms:.2f} ms/request without the profiler ({1000 / plain_ms:.0f} req/s on one core); "
          f"{per_request:.0f} queries/request taking {sql_ms:.2f} ms of it (measured at the cursor)")
    layers: Counter = Counter()
    for (filename, _, funcname), (_, _, tt, _, _) in stats.stats.items():
        layers[_layer(filename, funcname)] += tt
    print("   own time by layer (cProfile tottime, % of the profiled total):")
    for layer, tt in layers.most_common():
        print(f"     {tt / total * 100:5.1f}%  {tt * 1000 / n:7.2f} ms/req  {layer}")
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][3], reverse=True)
    print("   top functions by cumulative time (ms/request, calls/request):")
    shown = 0
    for (filename, line, funcname), (cc, nc, tt, ct, _) in rows:
        if funcname in ("<module>",) or filename == "~" and funcname.startswith("<built-in method builtins.exec"):
            continue
        print(f"     cum {ct * 1000 / n:7.2f}  own {tt * 1000 / n:6.2f}  calls {nc / n:7.1f}  "
              f"{_short(filename)}:{line}({funcname})")
        shown += 1
        if shown >= 30:
            break
    print("   top functions by own time:")
    for (filename, line, funcname), (cc, nc, tt, ct, _) in sorted(stats.stats.items(), key=lambda kv: kv[1][2],
                                                                  reverse=True)[:15]:
        print(f"     own {tt * 1000 / n:6.2f}  calls {nc / n:7.1f}  {_short(filename)}:{line}({funcname})")

    # One request's queries, slowest first, and EXPLAIN ANALYZE of the slowest reads.
    log = QueryLog()
    with connection.execute_wrapper(log):
        call()
    print(f"   queries of one request ({len(log.queries)}):")
    for sql, _, ms in log.queries:
        print(f"     {ms:6.2f} ms  {' '.join(sql.split())[:220]}")
    reads = sorted((q for q in log.queries if q[0].lstrip().upper().startswith("SELECT")
                    and "FOR UPDATE" not in q[0].upper()), key=lambda q: -q[2])[:2]
    for sql, params, ms in reads:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
        print(f"   EXPLAIN ANALYZE ({ms:.2f} ms at the cursor): {' '.join(sql.split())[:400]}")
        for row in plan:
            print(f"     {row}")


def query_counts(specs: dict) -> list[str]:
    """Queries per request stay constant as page size and line count grow."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    out = []

    def count(spec, path=None, lines=None):
        log = QueryLog()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {spec['token']}"}
        with connection.execute_wrapper(log):
            if spec["method"] == "POST":
                raw = _build_request({**spec, "lines": lines, "host": "x"}, random.Random(lines))
                response = client.post(spec["path"], data=raw.split(b"\r\n\r\n", 1)[1],
                                       content_type="application/json",
                                       HTTP_IDEMPOTENCY_KEY=f"load-count-{uuid.uuid4().hex}", **headers)
            else:
                response = client.get(path, **headers)
        assert 200 <= response.status_code < 300, (response.status_code, response.content[:300])
        return len(log.queries)

    for name in ("customers", "products"):
        spec = specs[name]
        base = spec["path"].split("?")[0]
        counts = [count(spec, f"{base}?PageSize={size}") for size in (5, 25, 100, 200)]
        out.append(f"{name}: PageSize 5/25/100/200 -> {'/'.join(map(str, counts))} queries")
    spec = specs["orders"]
    counts = [count(spec, lines=lines) for lines in (1, 5, 20, 100)]
    out.append(f"orders: 1/5/20/100 lines -> {'/'.join(map(str, counts))} queries")
    return out


def connect_cost(rounds: int = 40) -> tuple[float, float]:
    """ms for a fresh database connection (what CONN_MAX_AGE=0 pays on every request) vs one query."""
    from django.db import connection

    def one_query():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    one_query()
    t0 = time.perf_counter()
    for _ in range(rounds):
        one_query()
    query_ms = (time.perf_counter() - t0) * 1000 / rounds
    t0 = time.perf_counter()
    for _ in range(rounds):
        connection.close()
        one_query()
    return (time.perf_counter() - t0) * 1000 / rounds - query_ms, query_ms


# =============================================================== main


def fmt_ms(value: float) -> str:
    return f"{value:8.1f}" if value == value else "     n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per endpoint (default 20)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="split each endpoint's seconds into this many slices, the endpoints taking turns (default 4)")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before each (default 3)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--connections", type=int, default=16, help="requests in flight (default 16)")
    parser.add_argument("--lines", type=int, default=20, help="lines per order (default 20)")
    parser.add_argument("--reseed", action="store_true", help="drop and re-seed the database")
    parser.add_argument("--variants", action="store_true", help="also customers page 40 / search, products page 200")
    parser.add_argument("--only", default="", help="comma-separated endpoints to run (the baseline always runs)")
    parser.add_argument("--profile", default="slowest",
                        help="slowest (default: the slowest endpoint and the slowest list), all, none, or an endpoint")
    parser.add_argument("--profile-requests", type=int, default=100)
    parser.add_argument("--conn-max-age", type=int, default=None,
                        help="experiment: persistent DB connections in the server (DATABASE_URL ?conn_max_age=)")
    parser.add_argument("--app", default="nymble.wsgi",
                        help="experiments only: the WSGI module gunicorn serves, e.g. a scratch module on PYTHONPATH "
                             "that patches a prototype fix in before importing nymble.wsgi (default nymble.wsgi)")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main()
        return 0

    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("bench/load.py needs PostgreSQL: set DATABASE_URL=postgres://…/nymble_load (it refuses SQLite).")
    if not os.environ.get("REDIS_URL"):
        print("note: REDIS_URL is not set; the server's cache will be the database's")

    # The server and the in-process profile must sign and check tokens with the same keys: random
    # ones of this run's (production settings refuse to start without keys), over plain HTTP.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("JWT_SIGNING_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("HTTPS_ONLY", "false")
    t_start = time.perf_counter()
    print(f"machine: {platform.node()}, nproc={os.cpu_count()}, python {platform.python_version()}, "
          f"loadavg at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    db = prepare_database(url, args.reseed)
    print(f"database {urlsplit(url).path.lstrip('/')}: {db['how']} in {db['seconds']:.1f}s "
          f"(customers {db['counts']['customers']:,}, the rep's {db['counts']['rep_customers']:,}, "
          f"products {db['counts']['products']:,}, prices {db['counts']['prices']:,})")
    for step, seconds in db["timings"].items():
        print(f"  {step:<45} {seconds:7.2f}s")

    import load_seed
    from django.conf import settings
    from django.db import connection

    from nymble.models import Organization
    from orders.models import Order

    org_id = str(Organization.objects.get(org_code=load_seed.ORG_CODE).pk)
    customers = load_seed.rep_customer_numbers()
    skus = load_seed.skus()
    orders_before = Order.objects.filter(organization_id=org_id).count()
    connection.close()

    server_url = url if args.conn_max_age is None else with_query(url, conn_max_age=args.conn_max_age)
    env = {
        **os.environ,
        "DATABASE_URL": server_url,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "ACCESS_TOKEN_MINUTES": "240",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "nymble.settings",
    }
    results: dict[str, dict] = {}
    specs: dict[str, dict] = {}
    server = Server(args.workers, env, args.app)
    try:
        server.wait_ready()
        print(f"server: {' '.join(server.cmd[2:])} (sync workers close each connection; "
              f"DEBUG=0, CONN_MAX_AGE={args.conn_max_age or settings.DATABASES['default']['CONN_MAX_AGE']}"
              f"{' [experiment]' if args.conn_max_age else ''}, "
              f"{'' if args.app == 'nymble.wsgi' else f'app {args.app} [experiment], '}"
              f"cache {'Redis' if os.environ.get('REDIS_URL') else 'database'})")
        tokens = {}
        for role, email in (("rep", load_seed.REP_EMAIL), ("portal", load_seed.PORTAL_EMAIL)):
            status, body = http(server.port, "POST", "/api/auth/token",
                                body={"Email": email, "Password": load_seed.PASSWORD, "OrgCode": load_seed.ORG_CODE})
            if status != 200:
                raise RuntimeError(f"login as {role} failed: {status} {body}")
            tokens[role] = body["AccessToken"]

        def get(path, role):
            return {"method": "GET", "path": path, "token": tokens[role]}

        specs = {
            "baseline": get(f"/api/organizations/{org_id}", "rep"),
            "customers": get("/api/customers?PageSize=25", "rep"),
            "products": get("/api/products?PageSize=25", "portal"),
            "orders": {"method": "POST", "path": "/api/orders", "token": tokens["rep"], "customers": customers,
                       "skus": skus, "lines": args.lines},
        }
        if args.variants:
            specs["customers p40"] = get("/api/customers?PageSize=25&PageNumber=40", "rep")
            specs["customers search"] = get("/api/customers?PageSize=25&search=supply", "rep")
            specs["products p200"] = get("/api/products?PageSize=25&PageNumber=200", "portal")
        if args.only:
            wanted = {"baseline", *[w.strip() for w in args.only.split(",")]}
            specs = {k: v for k, v in specs.items() if k in wanted}

        # Smoke check: each endpoint answers as the spec says before it is loaded.
        checks = []
        for name, spec in specs.items():
            if spec["method"] == "POST":
                raw = _build_request({**spec, "host": "x"}, random.Random(1))
                status, body = http(server.port, "POST", spec["path"], spec["token"],
                                    body=json.loads(raw.split(b"\r\n\r\n", 1)[1]),
                                    headers={"Idempotency-Key": f"load-smoke-{uuid.uuid4().hex}"})
                ok = status == 201 and len(body.get("Items", [])) == args.lines
                detail = f"{status}, {len(body.get('Items', [])) if isinstance(body, dict) else '?'} lines"
            else:
                status, body = http(server.port, "GET", spec["path"], spec["token"])
                ok = status == 200
                detail = f"{status}"
                if ok and isinstance(body, dict) and "TotalRecords" in body:
                    detail += f", TotalRecords {body['TotalRecords']:,}, {len(body['Data'])} on the page"
                    expected = {"customers": load_seed.N_REP_CUSTOMERS, "products": load_seed.N_PRODUCTS,
                                "customers p40": load_seed.N_REP_CUSTOMERS, "products p200": load_seed.N_PRODUCTS}
                    ok = body["TotalRecords"] == expected.get(name, body["TotalRecords"]) and bool(body["Data"])
                    if name.startswith("products"):
                        ok = ok and body["Data"][0].get("Price") is not None
            checks.append(f"{name} {detail}{'' if ok else '  <-- UNEXPECTED'}")
            if not ok:
                raise RuntimeError(f"smoke check of {name} failed: {status} {str(body)[:500]}")
        print("smoke check: " + "; ".join(checks))

        rounds = max(1, args.rounds)
        slice_s = args.seconds / rounds
        later_warmup = min(args.warmup, 1.0)
        print(f"load: {args.connections} connections; {args.seconds:g}s measured per endpoint in {rounds} round(s) of "
              f"{slice_s:g}s, the endpoints taking turns (so anything else running on the machine weighs on each "
              f"alike); {args.warmup:g}s warm-up before an endpoint's first slice, {later_warmup:g}s before the "
              f"others; one asyncio client process (second process) per slice")
        dbname = urlsplit(url).path.lstrip("/")
        parts: dict[str, list] = {name: [] for name in specs}
        for round_no in range(rounds):
            for i, (name, spec) in enumerate(specs.items()):
                warmup = args.warmup if round_no == 0 else later_warmup
                parts[name].append(run_phase(name, spec, args, server, seed=1000 * round_no + i + 1, warmup=warmup,
                                             seconds=slice_s, dbname=dbname))
            line = ", ".join(f"{name} {len(p[-1]['latencies']) / slice_s:.0f}/s" for name, p in parts.items())
            print(f"  round {round_no + 1}/{rounds} (loadavg {os.getloadavg()[0]:.2f}): {line}", flush=True)
        results = {name: combine(name, p) for name, p in parts.items()}
    except Exception as exc:  # noqa: BLE001 - report, stop the server, exit non-zero
        print(f"\nFAILED: {exc}")
        if server.proc.poll() is not None or "gunicorn" in str(exc):
            print(server.log_tail())
        return_code = 1
    else:
        return_code = 0
    finally:
        server.stop()
        log_text = Path(server.log.name).read_text(errors="replace")
        Path(server.log.name).unlink(missing_ok=True)
    if return_code:
        return return_code

    # ---------------------------------------------------------------- report
    base = results["baseline"]
    print()
    print(f"results: gunicorn -w {args.workers} (sync) on 127.0.0.1, nproc={os.cpu_count()}, "
          f"{args.connections} connections, {args.seconds:g}s each")
    print(f"{'endpoint':<17}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'vs base':>9}   CPU ms/req: gunicorn  postgres  client   machine busy")
    for name, r in results.items():
        cpu = r.get("cpu", {})
        n = max(r["requests"], 1)
        cpu_text = ""
        if cpu:
            others = max(0.0, cpu["busy"] - cpu["workers"] - cpu["postgres"] - r["client_cpu"])
            cpu_text = (f"{cpu['workers'] * 1000 / n:8.1f}  {cpu['postgres'] * 1000 / n:8.1f}  "
                        f"{r['client_cpu'] * 1000 / n:6.1f}   {cpu['busy'] / cpu['wall'] / os.cpu_count() * 100:4.0f}% "
                        f"(others {others / cpu['wall'] / os.cpu_count() * 100:.0f}%)")
        ratio = r["rps"] / base["rps"] if base["rps"] else float("nan")
        print(f"{name:<17}{r['requests']:>9,}{r['rps']:>9.1f}{fmt_ms(r['p50']):>9}{fmt_ms(r['p99']):>9}"
              f"{r['error_count']:>8}{ratio:>8.0%}    {cpu_text}")
    print("CPU ms/req: gunicorn workers; PostgreSQL backends of this database (plus what the postmaster reaped, which "
          "may include other databases' short connections); the load client. machine busy: all cores; 'others': "
          "the part none of those used (other programs on the machine)")
    print("baseline = GET /api/organizations/{orgId} as the rep on the same server (JWT check + membership "
          "query + one organization query)")
    for name, r in results.items():
        if r["errors"]:
            print(f"errors of {name}: {r['errors']}")
            for status, sample in r["samples"].items():
                print(f"  {status}: {sample[:200]}")
    worker_errors = [line for line in log_text.splitlines() if ("ERROR" in line or "Traceback" in line)
                     and "was sent SIGTERM" not in line]  # the workers' shutdown at the end is not an error
    if worker_errors:
        print(f"gunicorn log: {len(worker_errors)} error lines, first: {worker_errors[0][:200]}")

    print()
    total_errors = sum(r["error_count"] for r in results.values())
    print(f"aim: zero errors: {'met' if total_errors == 0 else 'MISSED'} ({total_errors} errors in total)")
    for name in LIST_ENDPOINTS:
        if name in results:
            ratio = results[name]["rps"] / base["rps"]
            print(f"aim: {name} >= {AIM_LIST_RATIO:.0%} of baseline throughput: "
                  f"{'met' if ratio >= AIM_LIST_RATIO else 'MISSED'} ({ratio:.0%})")
    if "orders" in results:
        ratio = results["orders"]["rps"] / base["rps"]
        print(f"aim: orders (20 lines) >= {AIM_ORDER_RATIO:.0%} of baseline throughput: "
              f"{'met' if ratio >= AIM_ORDER_RATIO else 'MISSED'} ({ratio:.0%}); "
              f"orders placed this run: {results['orders']['requests']:,} measured "
              f"(the organization had {orders_before:,} before)")

    # ---------------------------------------------------------------- in-process profile
    measured = {k: v for k, v in results.items() if k != "baseline"}
    if args.profile != "none" and measured:
        connection.close()
        if args.profile == "all":
            names = list(measured)
        elif args.profile == "slowest":  # the slowest endpoint, and the slowest list if that is another
            names = [min(measured, key=lambda k: measured[k]["rps"])]
            lists = [k for k in measured if k in LIST_ENDPOINTS]
            if lists and min(lists, key=lambda k: measured[k]["rps"]) not in names:
                names.append(min(lists, key=lambda k: measured[k]["rps"]))
        else:
            names = [args.profile]
        for name in names:
            profile_endpoint(name, specs[name], args.profile_requests)
        if all(k in specs for k in ("customers", "products", "orders")):
            print("\n== queries per request (constant as page size and line count grow)")
            for line in query_counts(specs):
                print(f"   {line}")
        connect_ms, query_ms = connect_cost()
        print(f"\n== a new PostgreSQL connection costs {connect_ms:.2f} ms (vs {query_ms:.3f} ms for SELECT 1 on an "
              f"open one); CONN_MAX_AGE=0 would pay it on every request (the settings keep connections "
              f"{settings.DATABASES['default']['CONN_MAX_AGE']} s)")
    print(f"\ntotal time {time.perf_counter() - t_start:.0f}s")
    return 0


if __name__ == "__main__":
    def _terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the server and the load client were stopped on the way out
        print("\ninterrupted: gunicorn and the load client stopped", file=sys.stderr)
        sys.exit(130)
