"""Benchmark the commission rate engine (no Django needed).

    python bench/rate_engine.py [--lines N] [--seed S] [--fresh-strings]

Builds a seeded random plan (20 rules, 50 customer overrides), 5,000 products,
2,000 customers and N lines spread over a month, then times
``CompiledPlan.rate_rows`` over all N lines (cold caches: compile + first
sight of every SKU / name / customer is included), and a naive per-line
evaluation (patterns re-translated on every check, plain loops) on a 20,000
line sample, scaled to N.  Asserts both agree on the sample and prints peak
memory (ru_maxrss).

``--fresh-strings`` gives every line its own str objects, as rows coming from
a database driver would have (their hashes are not cached yet).
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from commissions.engine import (  # noqa: E402
    OverrideSpec,
    PlanSpec,
    Rating,
    RuleSpec,
    commission_for,
    compile_plan,
)

N_PRODUCTS = 5_000
N_CUSTOMERS = 2_000
N_RULES = 20
N_OVERRIDES = 50
SAMPLE = 20_000
MONTH = [date(2024, 3, 1) + timedelta(days=i) for i in range(31)]
FAMILIES = ["WID", "GAD", "BOLT", "NUT", "PIPE", "VALVE", "PUMP", "CABLE", "A[1]", "50%"]
ADJECTIVES = ["Heavy", "Light", "Pro", "Eco", "Mini", "Max", "Steel", "Brass", "x+y", "Ultra"]
NOUNS = ["Widget", "Gadget", "Bolt", "Nut", "Pipe", "Valve", "Pump", "Cable", "Clamp", "Hose"]


def cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high)).scaleb(-2)


def rate4(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(50, 1500)).scaleb(-4)  # 0.5% .. 15%


def build_catalog(rng: random.Random):
    products = []
    for i in range(N_PRODUCTS):
        fam = rng.choice(FAMILIES)
        sku = f"{fam}-{i:05d}-{rng.choice('ABCDEFXYZ')}{rng.randint(0, 9)}"
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice([10, 25, 50, 100, 250])}mm"
        price = cents(rng, 50, 50_000)
        products.append((sku, name, price))
    customers = [f"CUST-{i:05d}" for i in range(N_CUSTOMERS)]
    return products, customers


def random_rule(rng: random.Random, priority: int, customers: list[str], kind: int) -> RuleSpec:
    sku_patterns: tuple[str, ...] = ()
    name_patterns: tuple[str, ...] = ()
    customer_numbers: tuple[str, ...] = ()
    low = high = None
    if kind in (0, 4, 5):
        sku_patterns = tuple(
            rng.choice([f"{f}-*" for f in FAMILIES] + ["*-X?", "*-?7", "PUMP-0*", "*a[1]*", "50%-*-Z?"])
            for _ in range(rng.randint(1, 3))
        )
    if kind in (1, 4):
        name_patterns = tuple(
            rng.choice(["Heavy *", "* Pump *", "*Pro*", "ECO ?????? *", "* 250mm", "x+y *"])
            for _ in range(rng.randint(1, 2))
        )
    if kind in (2, 5):
        customer_numbers = tuple(rng.sample(customers, rng.randint(5, 60)))
    if kind in (3, 4, 5) or rng.random() < 0.3:
        bound = rng.choice(["min", "max", "both"])
        if bound in ("min", "both"):
            low = cents(rng, 0, 200_000)
        if bound in ("max", "both"):
            high = cents(rng, -10_000, 500_000)
            if low is not None and high < low:
                low, high = high, low
    return RuleSpec(
        priority=priority,
        name=f"Rule {priority}",
        rate=rate4(rng),
        sku_patterns=sku_patterns,
        product_name_patterns=name_patterns,
        customer_numbers=customer_numbers,
        min_line_amount=low,
        max_line_amount=high,
    )


def build_plan(rng: random.Random, customers: list[str]) -> PlanSpec:
    priorities = rng.sample(range(1, 1000), N_RULES)
    rules = tuple(random_rule(rng, p, customers, i % 6) for i, p in enumerate(priorities))
    override_customers = rng.sample(customers, N_OVERRIDES - 5)
    override_customers += rng.sample(override_customers, 5)  # 5 customers get two overrides
    overrides = []
    seen: set[str] = set()
    for i, cust in enumerate(override_customers):
        start = end = None
        if cust in seen:  # the second override of a customer: second half of the month
            start = date(2024, 3, 16)
        elif cust in override_customers[N_OVERRIDES - 5 :]:
            end = date(2024, 3, 15)
        elif i % 4 == 0:
            start = rng.choice(MONTH)
            end = start + timedelta(days=rng.randint(0, 20))
        seen.add(cust)
        kind = i % 3
        ov_rules = ()
        if kind != 2:
            ov_rules = tuple(
                random_rule(rng, p, [cust], rng.choice([0, 1, 3, 4]))
                for p in rng.sample(range(1, 100), rng.randint(1, 4))
            )
        default = rate4(rng) if kind != 0 else None  # kind 0: rules only, falls through
        overrides.append(OverrideSpec(cust, default, start, end, ov_rules))
    return PlanSpec(
        default_rate=Decimal("0.05"),
        effective_start=date(2024, 3, 2),  # lines of March 1st are left out
        effective_end=date(2024, 3, 31),
        rules=rules,
        overrides=tuple(overrides),
    )


def build_lines(rng: random.Random, products, customers, n: int, fresh: bool):
    lines = []
    choice, randint, rand = rng.choice, rng.randint, rng.random
    for _ in range(n):
        sku, name, price = choice(products)
        qty = randint(1, 40)
        if rand() < 0.03:
            qty = -qty  # clawback
        cust = choice(customers)
        if fresh:
            sku, name, cust = (sku + " ")[:-1], (name + " ")[:-1], (cust + " ")[:-1]
        lines.append((sku, name, cust, Decimal(qty) * price, choice(MONTH)))
    return lines


# ---------------------------------------------------------------------------
# Naive baseline: what one would write without compiling anything.
# ---------------------------------------------------------------------------


def naive_glob(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.casefold())
    return re.fullmatch(regex, value.casefold(), re.DOTALL) is not None


def naive_matches(rule: RuleSpec, sku, name, cust, amount) -> bool:
    if rule.sku_patterns and not any(naive_glob(p, sku) for p in rule.sku_patterns):
        return False
    if rule.product_name_patterns and not any(naive_glob(p, name) for p in rule.product_name_patterns):
        return False
    if rule.customer_numbers and cust not in rule.customer_numbers:
        return False
    if rule.min_line_amount is not None and amount < rule.min_line_amount:
        return False
    if rule.max_line_amount is not None and amount > rule.max_line_amount:
        return False
    return True


def naive_in_window(day, start, end) -> bool:
    return (start is None or start <= day) and (end is None or day <= end)


def naive_rate(plan: PlanSpec, sku, name, cust, amount, day):
    if not naive_in_window(day, plan.effective_start, plan.effective_end):
        return None
    for ov in plan.overrides:
        if ov.customer_number == cust and naive_in_window(day, ov.effective_start, ov.effective_end):
            for rule in sorted(ov.rules, key=lambda r: r.priority):
                if naive_matches(rule, sku, name, cust, amount):
                    return Rating(rule.rate, f"Override {cust}: Rule: {rule.name}")
            if ov.default_rate is not None:
                return Rating(ov.default_rate, f"Override {cust}: default")
            break
    for rule in sorted(plan.rules, key=lambda r: r.priority):
        if naive_matches(rule, sku, name, cust, amount):
            return Rating(rule.rate, f"Rule: {rule.name}")
    return Rating(plan.default_rate, "Plan default")


# ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240315)
    parser.add_argument("--fresh-strings", action="store_true", help="new str objects per line")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    products, customers = build_catalog(rng)
    plan = build_plan(rng, customers)
    lines = build_lines(rng, products, customers, args.lines, args.fresh_strings)
    setup = time.perf_counter() - t0
    print(
        f"setup: {len(plan.rules)} rules, {len(plan.overrides)} overrides, {len(products)} products, "
        f"{len(customers)} customers, {len(lines):,} lines "
        f"({'fresh' if args.fresh_strings else 'shared'} strings) built in {setup:.2f}s"
    )

    # Compiled engine, cold: compile + every cache miss is part of the figure.
    t0 = time.perf_counter()
    compiled = compile_plan(plan)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rated = 0
    for rating in compiled.rate_rows(lines):
        if rating is not None:
            rated += 1
    cold_s = time.perf_counter() - t0
    cold_lps = len(lines) / cold_s

    t0 = time.perf_counter()
    for rating in compiled.rate_rows(lines):
        pass
    warm_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    total = Decimal(0)
    for (_, _, _, amount, _), rating in zip(lines, compiled.rate_rows(lines)):
        if rating is not None:
            total += commission_for(amount, rating.rate)
    with_commission_s = time.perf_counter() - t0

    # Naive baseline on a sample, scaled.
    sample = lines[:SAMPLE]
    t0 = time.perf_counter()
    naive = [naive_rate(plan, *line) for line in sample]
    naive_s = time.perf_counter() - t0
    naive_lps = len(sample) / naive_s
    fresh = compile_plan(plan)
    compiled_sample = list(fresh.rate_rows(sample))
    assert compiled_sample == naive, "compiled engine and naive evaluation disagree"
    assert [fresh.rate(*line) for line in sample] == naive

    sources: dict[str, int] = {}
    for r in compiled_sample:
        key = "left out" if r is None else r.source.split(":")[0].split(" ")[0]
        sources[key] = sources.get(key, 0) + 1

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"compile_plan: {compile_s * 1000:.1f} ms")
    print(
        f"rate_rows (cold): lines={len(lines):,} seconds={cold_s:.3f} lines/sec={cold_lps:,.0f} "
        f"(rated {rated:,}, left out {len(lines) - rated:,})"
    )
    print(f"rate_rows (warm): seconds={warm_s:.3f} lines/sec={len(lines) / warm_s:,.0f}")
    print(
        f"rate_rows + commission_for: seconds={with_commission_s:.3f} "
        f"lines/sec={len(lines) / with_commission_s:,.0f} (total commission {total})"
    )
    print(
        f"naive: sample={len(sample):,} seconds={naive_s:.3f} lines/sec={naive_lps:,.0f} "
        f"(scaled to {len(lines):,} lines: {len(lines) / naive_lps:.1f}s)"
    )
    print(f"speed-up (cold rate_rows vs naive): {cold_lps / naive_lps:.1f}x")
    print(f"sample agrees with naive: yes ({len(sample):,} lines; by source: {sources})")
    print(
        f"caches: {len(compiled._sku_masks):,} skus, {len(compiled._name_masks):,} names, "
        f"{len(compiled._customer_masks):,} customers, "
        f"{len(compiled._customer_date_masks):,} (override customer, day), {len(compiled._date_masks)} days"
    )
    print(f"peak memory (ru_maxrss, whole process incl. the {len(lines):,} lines): {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
