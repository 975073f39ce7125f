"""Benchmark an organization's monthly statement run on real Celery workers: one, then two (the aims in bench/README.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nymble_month \\
    REDIS_URL=redis://127.0.0.1:6379/6 CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/monthly_run.py [--reps 200] [--lines-per-rep 5000] [--keep] [--timeout 3600]

Drops and re-creates the database named in DATABASE_URL (PostgreSQL only) and loads, with
bench/statements.py's SQL, one organization with REPS × LINES_PER_REP paid invoice lines (about
5 per invoice, paid in March 2025, 30% of the orders split between 2–3 reps, returns on ~0.2% of
the lines). Its credits are then spread over REPS reps: each block of 5 consecutive invoices (25
lines) is one rep's, in turn, and a split order's other reps are picked by a hash of the order
among the rest, so every rep is credited on LINES_PER_REP lines whole or in part and shares a
few split invoices with most of the others. Every rep gets bench/statements.py's plan (20 rules,
50 overrides, per-unit rules, a quota of 75% of its sales with 3 Marginal accelerator tiers) and
an empty February statement (so generation looks for earlier earnings, as it does for any rep
with a history).

Then, twice — with one worker process, then with two — it starts
`celery -A nymble worker --concurrency 1` subprocesses on the broker (CELERY_BROKER_URL, else
REDIS_URL), calls `commissions.tasks.generate_monthly_statements.delay("2025-04-01",
organization_id=…)` — March with catch-up, one `generate_statement` task per rep — and waits until
every rep's statement is Draft or Failed. It prints each wall time (from the call to the last
statement done), statement lines per second, the tasks each worker ran, the worker processes'
peak RSS, how often a generation was waiting on a lock (pg_stat_activity sampled), how busy the
machine's CPU was and where the open transactions' connections spent the run (PostgreSQL running,
waiting, or idle while the worker's Python works), the load average before and after, and the
ratio of the two times. Between the runs it deletes the March
statements (lines, entries, events) and vacuums the statement tables, so both runs do the same
work on the same tables. A Failed statement counts as done only once nothing is queued or
reserved on the broker (the task retries a failed generation). Then, on the second run's March
statements, April's run with two workers: nothing new was sold, so its time is what one month of
history adds to every later run (catch-up reads every invoice paid up to the period's end).

It checks each run: one Draft statement per rep; Total = LinesTotal = Σ line commissions = Σ entry
commissions, each entry = Σ its lines; per rep, the sales lines and their credited amounts equal
those the seed implies (every (invoice line, credit) paid from the plan's start, March 2nd, to
March 31st), the clawbacks and entries too; and the second run's statements equal the first's.
April's statements hold the returns dated in April of lines commissioned in March, nothing else.
It exits 1 when a check fails; "aim missed" (two workers not faster than one) is only printed.
"""
from __future__ import annotations

import argparse
import datetime
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import statements  # noqa: E402  (bench/statements.py: its loading SQL, plan and helpers)
from scratchdb import drop_database, recreate_database, scalar, sql  # noqa: E402

MARCH = ("2025-04-01", statements.PERIOD_START, statements.PERIOD_END)  # the run of April 1st: March, catch-up
APRIL = ("2025-05-01", datetime.date(2025, 4, 1), datetime.date(2025, 4, 30))  # nothing sold: history re-read
FEBRUARY = (datetime.date(2025, 2, 1), datetime.date(2025, 2, 28))
POLL_S = 0.25
READY_TIMEOUT_S = 90
STATEMENT_TABLES = ("commissions_statementline", "commissions_statemententry", "commissions_statementevent",
                    "commissions_statementadjustment", "commissions_statementdispute")


def broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL", "")
    if urlsplit(url).scheme not in ("redis", "rediss"):
        sys.exit("bench/monthly_run.py starts real workers: set CELERY_BROKER_URL (or REDIS_URL) to a Redis "
                 "database of its own, e.g. redis://127.0.0.1:6379/7.")
    return url


# ---------------------------------------------------------------- data


def spread_credits(org, reps: list) -> None:
    """bench/statements.py credits every order to its rep R (whole or first, middle or last of a
    split) and split orders to 1–2 of 4 others. Here R's credits go to reps[(invoice // 5) % N]
    (blocks of 25 lines) and each other rep k's to the rep 1 + (h + k) % (N − 1) places further,
    h a hash of the order: distinct reps on every order. Primary reps follow the first credit."""
    ids = [str(rep.pk) for rep in reps]
    sql("CREATE TEMP TABLE bench_rep_k (k int PRIMARY KEY, id uuid)")
    for k, rep_id in enumerate(ids):
        sql("INSERT INTO bench_rep_k VALUES (%s, %s)", [k, rep_id])
    n = len(ids)
    inv = "(substr(o.order_number, 5)::int - 1)"
    # bench/statements.py's reps: R-001 is R, R-002…R-005 its "other" reps (k = 0…3). Rewritten
    # rather than updated in place: (order, rep) is unique, checked row by row.
    sql(f"""
        CREATE TEMP TABLE bench_credit_new AS
        SELECT sc.order_id, r.id AS sales_rep_id, sc.share, sc.position
        FROM orders_salescredit sc JOIN orders_order o ON o.id = sc.order_id
        JOIN salesreps_organizationsalesrep old ON old.id = sc.sales_rep_id
        JOIN bench_rep_k r ON r.k = CASE WHEN old.rep_number = 'R-001' THEN mod({inv} / 5, {n})
                                         ELSE mod(mod({inv} / 5, {n}) + 1 + mod({statements.H(inv, 30)}
                                                  + substr(old.rep_number, 3)::int - 2, {n - 1}), {n}) END
        WHERE o.organization_id = %(org)s""", {"org": str(org.pk)})
    sql("DELETE FROM orders_salescredit sc USING orders_order o WHERE o.id = sc.order_id AND o.organization_id = %s",
        [str(org.pk)])
    sql("INSERT INTO orders_salescredit (order_id, sales_rep_id, share, position) "
        "SELECT order_id, sales_rep_id, share, position FROM bench_credit_new")
    for table in ("orders_order", "orders_invoice"):
        order = "t.id" if table == "orders_order" else "t.order_id"
        sql(f"""
            UPDATE {table} t SET primary_sales_rep_id = sc.sales_rep_id
            FROM orders_salescredit sc WHERE sc.order_id = {order} AND sc.position = 0""")
    sql("UPDATE orders_order SET taken_by_sales_rep_id = primary_sales_rep_id")
    sql("DROP TABLE bench_rep_k, bench_credit_new")


def load(n_reps: int, lines_per_rep: int) -> dict:
    from django.db import transaction

    from commissions.statements.services import statement_generate
    from salesreps.models import OrganizationSalesRep
    from salesreps.services import sales_rep_create

    data = statements.load_data(n_reps * lines_per_rep, with_plan=False)
    org, timings = data["org"], data["timings"]
    t0 = time.perf_counter()
    with transaction.atomic():
        have = 1 + len(data["others"])
        for k in range(have, n_reps):
            sales_rep_create(organization=org, rep_number=f"R-{k + 1:03d}", first_name="Rep", last_name=f"{k + 1}",
                             email=f"rep{k + 1}@bench.example")
        reps = list(OrganizationSalesRep.objects.filter(organization=org).order_by("rep_number"))
        spread_credits(org, reps)
    timings[f"{n_reps - have} more reps, credits spread over {n_reps}"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    sales = dict(sql(f"""
        SELECT sc.sales_rep_id, sum(x.amount) FROM orders_invoiceline il
        JOIN orders_invoice i ON i.id = il.invoice_id JOIN orders_salescredit sc ON sc.order_id = i.order_id
        CROSS JOIN LATERAL (SELECT {statements.CREDITED} AS amount) x
        WHERE i.organization_id = %s AND i.paid_on BETWEEN %s AND %s GROUP BY sc.sales_rep_id""",
                     [str(org.pk), statements.PLAN_START, statements.PERIOD_END]))
    for rep in reps:
        quota = (sales[rep.pk] * statements.QUOTA_OF_SALES).quantize(Decimal("0.01"))
        statements.create_plan(org, rep, quota)
    timings[f"{n_reps} plans (plan_create)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    sql("VACUUM ANALYZE " + ", ".join(statements.LOADED_TABLES))
    timings["VACUUM ANALYZE"] = time.perf_counter() - t0
    # After the statistics: without them each empty February statement's look-up of the rep's
    # invoices paid in February took ~3 s (a poor plan on unanalyzed tables) instead of ~30 ms.
    t0 = time.perf_counter()
    for rep in reps:
        statement_generate(rep=rep, period_start=FEBRUARY[0], period_end=FEBRUARY[1],
                           currency_code=statements.CURRENCY, actor="bench")
    timings[f"{n_reps} February statements"] = time.perf_counter() - t0
    return {**data, "reps": reps}


# ---------------------------------------------------------------- workers


class Worker:
    """One `celery -A nymble worker --concurrency 1` (a consumer and one pool process)."""

    def __init__(self, name: str, log_dir: Path):
        self.name = name
        self.log = log_dir / f"{name}.log"
        celery = Path(sys.executable).parent / "celery"
        self.process = subprocess.Popen(
            [str(celery), "-A", "nymble", "worker", "--concurrency", "1", "-n", f"{name}@%h", "-l", "info",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=os.environ.copy(), stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while " ready." not in self.text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker {self.name} did not start:\n{self.text()[-3000:]}")
            time.sleep(0.2)

    def pool_peak_rss_kb(self) -> int:
        """Peak RSS (VmHWM) of the worker's pool process(es), read before it stops."""
        peak = 0
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return 0
        for child in children:
            try:
                for line in Path(f"/proc/{child}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except OSError:
                pass
        return peak

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tasks(self) -> list[float]:
        """The seconds of each generate_statement this worker ran (from its log)."""
        return [float(s) for s in re.findall(r"Task commissions\.tasks\.generate_statement\[[^\]]+\] succeeded in "
                                             r"([0-9.]+)s", self.text())]


class LockSampler(threading.Thread):
    """Samples pg_stat_activity (on its own connection, every POLL_S): the generations' queries
    running, and those waiting on a lock; and where the connections of open transactions are —
    PostgreSQL running, waiting (by wait event type), or idle in transaction (the worker's Python)."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.stopped = url, threading.Event()
        self.samples = 0
        self.active = 0
        self.waiting = 0
        self.waits: dict[str, int] = {}
        self.split: dict[str, int] = {}

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stopped.wait(POLL_S):
                rows = conn.execute("""
                    SELECT state, wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 90)
                    FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid()
                      AND state IN ('active', 'idle in transaction') AND backend_type = 'client backend'""").fetchall()
                self.samples += 1
                for state, kind, event, query in rows:
                    where = ("Python (idle in transaction)" if state != "active" else
                             f"waiting: {kind}" if kind else "PostgreSQL running")
                    self.split[where] = self.split.get(where, 0) + 1
                    if state != "active":
                        continue
                    self.active += 1
                    if kind == "Lock":
                        self.waiting += 1
                        key = f"{event} in {query}…"
                        self.waits[key] = self.waits.get(key, 0) + 1


# ---------------------------------------------------------------- a run


def statements_of(org, period_start):
    from commissions.models import CommissionStatement

    return CommissionStatement.objects.filter(organization=org, period_start=period_start)


def reset(org, period_start) -> None:
    """No statements of the period, vacuumed statement tables and a checkpoint: the same start for each run."""
    ids = "SELECT id FROM commissions_commissionstatement WHERE organization_id = %s AND period_start = %s"
    params = [str(org.pk), period_start]
    for table in STATEMENT_TABLES:
        sql(f"DELETE FROM {table} WHERE statement_id IN ({ids})", params)
    sql(f"DELETE FROM commissions_commissionstatement WHERE id IN ({ids})", params)
    sql("VACUUM ANALYZE commissions_commissionstatement, " + ", ".join(STATEMENT_TABLES))
    sql("CHECKPOINT")


def cpu_ticks() -> tuple[int, int]:
    """(idle, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return values[3] + values[4], sum(values[:8])


def pending(broker) -> int:
    """Messages queued or reserved by a worker (acks_late: a running task's, a retry waiting for its ETA)."""
    return broker.llen("celery") + broker.hlen("unacked")


def run(org, n_reps: int, n_workers: int, url: str, log_dir: Path, timeout: float, month=MARCH) -> dict:
    from django.db.models import Count

    from commissions.models import EventType, StatementEvent, StatementStatus
    from commissions.tasks import generate_monthly_statements
    from nymble.celery import app

    import redis

    broker = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    today, period_start, _ = month
    reset(org, period_start)
    app.control.purge()
    workers = [Worker(f"bench-{today}-{n_workers}w{i + 1}", log_dir) for i in range(n_workers)]
    try:
        for worker in workers:
            worker.wait_ready()
        load_before = statements.loadavg()
        sampler = LockSampler(url)
        sampler.start()
        ticks = cpu_ticks()
        t0 = time.perf_counter()
        generate_monthly_statements.delay(today, organization_id=str(org.pk))
        started_s = None
        while True:
            time.sleep(POLL_S)
            elapsed = time.perf_counter() - t0
            by_status = dict(statements_of(org, period_start).values_list("status").annotate(n=Count("pk")))
            made = sum(by_status.values())
            if started_s is None and made == n_reps:
                started_s = elapsed
            done = by_status.get(StatementStatus.DRAFT, 0) + by_status.get(StatementStatus.FAILED, 0)
            # A Failed statement is final only once its retries are over: nothing queued or reserved.
            if made == n_reps and done == n_reps and (not by_status.get(StatementStatus.FAILED) or not pending(broker)):
                break
            if elapsed > timeout:
                raise SystemExit(f"run with {n_workers} worker(s) not done after {timeout:.0f}s: {by_status}")
            for worker in workers:
                if worker.process.poll() is not None:
                    raise SystemExit(f"worker {worker.name} exited:\n{worker.text()[-3000:]}")
        wall = time.perf_counter() - t0
        idle, total = (after - before for after, before in zip(cpu_ticks(), ticks))
        sampler.stopped.set()
        sampler.join()
        load_after = statements.loadavg()
        peaks = [worker.pool_peak_rss_kb() for worker in workers]
    finally:
        for worker in workers:
            worker.stop()
    return {"workers": n_workers, "wall": wall, "cpu_busy": 1 - idle / total if total else 0.0, "started": started_s, "load_before": load_before,
            "load_after": load_after, "tasks": [worker.tasks() for worker in workers], "peaks_kb": peaks,
            "sampler": sampler, "by_status": by_status, "result": results(org, period_start), "month": month,
            "disk": scalar("SELECT pg_total_relation_size('commissions_statementline') "
                           "+ pg_total_relation_size('commissions_statemententry')"),
            "disk_lines": scalar("SELECT count(*) FROM commissions_statementline"),
            "failed": list(StatementEvent.objects.filter(statement__in=statements_of(org, period_start), type=EventType.FAILED)
                           .order_by("at").values_list("statement__sales_rep__rep_number", "note"))}


# ---------------------------------------------------------------- checks


def results(org, period_start) -> dict:
    """Per rep: (status, total, lines total, Σ line commissions, Σ entry commissions, sales lines,
    Σ their amounts, clawbacks, entries, entries unequal to their lines)."""
    rows = sql("""
        SELECT s.sales_rep_id, s.status, s.total, s.lines_total, s.adjustments_total, s.sales_total,
               coalesce(l.commission, 0), coalesce(e.commission, 0), coalesce(l.sales, 0), coalesce(l.amount, 0),
               coalesce(l.clawbacks, 0), coalesce(e.n, 0), coalesce(e.unequal, 0)
        FROM commissions_commissionstatement s
        LEFT JOIN LATERAL (SELECT sum(commission) AS commission, count(*) FILTER (WHERE credit_memo_line_id IS NULL)
                                  AS sales, sum(line_amount) FILTER (WHERE credit_memo_line_id IS NULL) AS amount,
                                  count(*) FILTER (WHERE credit_memo_line_id IS NOT NULL) AS clawbacks
                           FROM commissions_statementline WHERE statement_id = s.id) l ON true
        LEFT JOIN LATERAL (SELECT sum(commission) AS commission, count(*) AS n,
                                  count(*) FILTER (WHERE commission <> (SELECT coalesce(sum(x.commission), 0)
                                                   FROM commissions_statementline x WHERE x.entry_id = en.id))
                                    AS unequal
                           FROM commissions_statemententry en WHERE en.statement_id = s.id) e ON true
        WHERE s.organization_id = %s AND s.period_start = %s""", [str(org.pk), period_start])
    by_rep: dict = {}
    for rep_id, *values in rows:
        by_rep.setdefault(rep_id, []).append(tuple(values))
    return by_rep


def expected(org, month) -> dict:
    """Per rep, from the seed: (sales lines, Σ credited amounts, clawbacks, entries) of a month's
    statement with catch-up. The plan starts on March 2nd; what it commissions are the lines paid
    from then on (in March, and the few whose last payment fell on April 1st) and their returns,
    each clawed back in the month where both the sale was commissioned and the return dated: the
    later of the invoice's paid-in-full day and the credit memo's."""
    _, period_start, period_end = month
    params = {"org": str(org.pk), "start": max(period_start, statements.PLAN_START), "end": period_end,
              "sold_from": statements.PLAN_START}
    sales = {rep_id: (n, amount) for rep_id, n, amount in sql(f"""
        SELECT sc.sales_rep_id, count(*), sum(x.amount) FROM orders_invoiceline il
        JOIN orders_invoice i ON i.id = il.invoice_id JOIN orders_salescredit sc ON sc.order_id = i.order_id
        CROSS JOIN LATERAL (SELECT {statements.CREDITED} AS amount) x
        WHERE i.organization_id = %(org)s AND i.status = 'Paid' AND i.paid_on BETWEEN %(start)s AND %(end)s
        GROUP BY sc.sales_rep_id""", params)}
    claws = dict(sql("""
        SELECT sc.sales_rep_id, count(*) FROM orders_creditmemoline cml
        JOIN orders_creditmemo cm ON cm.id = cml.credit_memo_id JOIN orders_invoice i ON i.id = cm.invoice_id
        JOIN orders_salescredit sc ON sc.order_id = i.order_id
        WHERE i.organization_id = %(org)s AND i.paid_on >= %(sold_from)s
          AND greatest(i.paid_on, cm.credit_date) BETWEEN %(start)s AND %(end)s
        GROUP BY sc.sales_rep_id""", params))
    entries = dict(sql("""
        SELECT sc.sales_rep_id, count(*) FROM orders_invoice i
        JOIN orders_salescredit sc ON sc.order_id = i.order_id
        WHERE i.organization_id = %(org)s AND (i.paid_on BETWEEN %(start)s AND %(end)s
              OR i.paid_on >= %(sold_from)s AND EXISTS (
                  SELECT 1 FROM orders_creditmemo cm WHERE cm.invoice_id = i.id
                  AND greatest(i.paid_on, cm.credit_date) BETWEEN %(start)s AND %(end)s))
        GROUP BY sc.sales_rep_id""", params))
    return {rep_id: (*sales.get(rep_id, (0, 0)), claws.get(rep_id, 0), entries.get(rep_id, 0))
            for rep_id in {*sales, *claws, *entries}}


def verify(result: dict, want: dict, reps: list) -> list[str]:
    failures = []
    for rep in reps:
        got = result.get(rep.pk, [])
        if len(got) != 1:
            failures.append(f"{rep.rep_number}: {len(got)} March statements, not 1")
            continue
        status, total, lines_total, adjustments, sales_total, lines_sum, entries_sum, n_sales, amount, claws, \
            entries, unequal = got[0]
        n_want, amount_want, claws_want, entries_want = want.get(rep.pk, (0, 0, 0, 0))
        problems = []
        if status != "Draft":
            problems.append(f"status {status}")
        if not (total == lines_total + adjustments == lines_sum == entries_sum) or adjustments:
            problems.append(f"Total {total}, LinesTotal {lines_total}, Σ lines {lines_sum}, Σ entries {entries_sum}")
        if unequal:
            problems.append(f"{unequal} entries unequal to their lines")
        if (n_sales, amount, sales_total) != (n_want, amount_want, amount_want):
            problems.append(f"sales lines {n_sales} (Σ {amount}, SalesTotal {sales_total}), the seed implies "
                            f"{n_want} (Σ {amount_want})")
        if claws != claws_want:
            problems.append(f"{claws} clawbacks, the seed implies {claws_want}")
        if entries != entries_want:
            problems.append(f"{entries} entries, the seed implies {entries_want}")
        if problems:
            failures.append(f"{rep.rep_number}: " + "; ".join(problems))
    return failures


# ---------------------------------------------------------------- main


def label(r: dict) -> str:
    return f"{'March' if r['month'] == MARCH else 'April'}, {r['workers']} worker{'s' if r['workers'] > 1 else ''}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=200, help="sales reps (default 200)")
    parser.add_argument("--lines-per-rep", type=int, default=5000,
                        help="paid invoice lines credited to each rep (default 5,000)")
    parser.add_argument("--timeout", type=float, default=3600, help="give up on a run after this many seconds")
    parser.add_argument("--keep", action="store_true", help="leave the database in place afterwards")
    args = parser.parse_args()
    if args.reps < 5:
        parser.error("--reps must be at least 5 (a split order names up to 3 distinct reps)")
    if args.lines_per_rep < 25:
        parser.error("--lines-per-rep must be at least 25")

    url = statements.database_url()
    broker = broker_url()
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ.setdefault("HTTPS_ONLY", "false")
    started = time.perf_counter()
    load_at_start = statements.loadavg()
    name = recreate_database(url)
    statements.django_setup()  # the workers inherit its keys through os.environ
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    n_lines = args.reps * args.lines_per_rep
    t0 = time.perf_counter()
    data = load(args.reps, args.lines_per_rep)
    load_s = time.perf_counter() - t0
    org, reps = data["org"], data["reps"]
    print(f"database {name}: loaded {n_lines:,} paid invoice lines on {data['invoices']:,} invoices "
          f"({data['split_orders']:,} split orders, {data['returns']:,} returned lines) for {args.reps} reps, "
          f"each with a plan of 20 rules and 50 overrides, in {load_s:.0f}s:")
    for step, seconds in data["timings"].items():
        print(f"    {step:<46} {seconds:7.1f}s")
    print(f"    database size: {scalar('SELECT pg_size_pretty(pg_database_size(current_database()))')}")
    want = {month: expected(org, month) for month in (MARCH, APRIL)}

    with tempfile.TemporaryDirectory(prefix="monthly_run-") as logs:
        runs = [run(org, args.reps, n, url, Path(logs), args.timeout) for n in (1, 2)]
        # The next month, on the second run's March statements: nothing new was sold, so this is what
        # catch-up costs for one month of history (it reads every invoice paid up to the period's end).
        runs.append(run(org, args.reps, 2, url, Path(logs), args.timeout, month=APRIL))
    failures = []
    for r in runs:
        failures += [f"({label(r)}) {f}" for f in verify(r["result"], want[r["month"]], reps)]
    if runs[0]["result"] != runs[1]["result"]:
        failures.append("the two runs' statements differ")

    def statement_lines(month) -> int:
        return sum(n + claws for n, _, claws, _ in want[month].values())

    one, two = runs[0]["wall"], runs[1]["wall"]
    print()
    print(f"Monthly statement run, {args.reps} reps × {args.lines_per_rep:,} paid invoice lines "
          f"({n_lines:,} lines; {statement_lines(MARCH):,} statement lines with the split shares and clawbacks), "
          f"on real Celery workers (PostgreSQL, Redis broker)")
    print(f"machine: {statements.machine()}")
    print(f"loadavg (1, 5, 15 min) at start {load_at_start}")
    print(f"{'run':<22} {'wall':>9} {'lines/s':>10} {'all started':>12} {'tasks per worker':>18} "
          f"{'mean task':>10} {'peak RSS/worker':>16} {'waiting on a lock':>18}  loadavg before → after")
    for r in runs:
        tasks = [t for ts in r["tasks"] for t in ts]
        sampler = r["sampler"]
        waiting = (f"{sampler.waiting / sampler.active:.0%} of samples" if sampler.active else "-")
        print(f"{label(r):<22} {r['wall']:>8.1f}s {statement_lines(r['month']) / r['wall']:>10,.0f} "
              f"{r['started'] or 0:>11.1f}s {'/'.join(str(len(ts)) for ts in r['tasks']):>18} "
              f"{(sum(tasks) / len(tasks) if tasks else 0):>9.2f}s "
              f"{'/'.join(statements.mb(kb) for kb in r['peaks_kb']):>16} {waiting:>18}  "
              f"{r['load_before']} → {r['load_after']}")
        for what, n in sorted(sampler.waits.items(), key=lambda kv: -kv[1])[:3]:
            print(f"          {n:>5} samples waiting: {what}")
        in_transaction = sum(sampler.split.values())
        print(f"          machine CPU busy {r['cpu_busy']:.0%} (both cores, all work on them); the open "
              "transactions' connections: " + ", ".join(
                  f"{where} {n / in_transaction:.0%}" for where, n in sorted(sampler.split.items(), key=lambda kv: -kv[1])))
    ratio = two / one
    print(f"{'two workers / one':<28} {ratio:.2f}×  ({one / two:.2f}× faster)   "
          f"{'aim met' if two < one else 'aim missed'} (two workers finish sooner than one)")
    print(f"verification: {'OK' if not failures else 'FAILED'} — one Draft statement per rep, Total = LinesTotal = "
          "Σ line commissions = Σ entry commissions, each entry = Σ its lines, per rep the sales lines, their "
          "credited amounts, clawbacks and entries the seed implies, and both runs' statements equal")
    print(f"{'statement lines and entries on disk':<28} {runs[1]['disk'] / 2**20:,.0f} MB after the second run "
          f"({runs[1]['disk'] / runs[1]['disk_lines']:,.0f} bytes per statement line, indexes and entries included)")
    april = runs[2]
    print(f"{'April (nothing new sold)':<28} {april['wall']:.1f}s with two workers for "
          f"{statement_lines(APRIL):,} statement lines (returns): each month of history adds about this much to "
          "every later run (catch-up re-reads every invoice paid up to the period's end)")
    for failure in failures[:20]:
        print(f"  FAILED: {failure}")
    for r in runs:
        if r["failed"]:
            print(f"{len(r['failed'])} failed generation attempt(s) in {label(r)} (retried by the "
                  f"task), the first: {r['failed'][0][0]}: {' '.join(r['failed'][0][1].split())[:400]}")
    print(f"(whole run {time.perf_counter() - started:.0f}s)")

    from django.db import connections

    connections.close_all()
    if not args.keep:
        drop_database(url)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
