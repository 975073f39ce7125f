"""Property tests of the commission arithmetic (docs/commissions.md) in commissions/engine.py.

The reference below is written plainly from the text of §6 (Fractions, loops, math.floor) and
calls none of the engine's helpers; the engine must agree with it exactly.  Derandomized, so a
run is repeatable; no database.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commissions.engine import (
    AcceleratorSpec,
    MultiplierSchedule,
    Rating,
    base_commission,
    clawback_commission,
    commission,
    credited_amounts,
    display_multiplier,
    line_commission,
    multiplier_from_storage,
    multiplier_to_storage,
    payment_shares,
)

F = Fraction
CENT = F(1, 100)

SETTINGS = settings(
    derandomize=True,
    database=None,
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# ---------------------------------------------------------------------------
# The reference, from the words of §6
# ---------------------------------------------------------------------------


def ref_round(x, places=2) -> Fraction:
    """*round*: half-up to cents, half away from zero, negative amounts included."""
    x = F(x)
    unit = F(1, 10**places)
    magnitude = math.floor(abs(x) / unit + F(1, 2)) * unit
    return -magnitude if x < 0 else magnitude


def ref_credits(amount, shares) -> list[Fraction]:
    """Rep k < n is credited round(A x Sk) and the last rep A minus the others' credits."""
    amount = F(amount)
    credits = []
    for share in shares[:-1]:
        credits.append(ref_round(amount * F(share)))
    credits.append(amount - sum(credits))
    return credits


def ref_payment_amounts(credited, total, payments) -> list[Fraction]:
    """Payment k: round(A_R x Ck / T) - round(A_R x Ck-1 / T)."""
    out = []
    received = F(0)
    for payment in payments:
        before = ref_round(F(credited) * received / F(total))
        received += F(payment)
        after = ref_round(F(credited) * received / F(total))
        out.append(after - before)
    return out


def ref_m(x, quota, tiers) -> Fraction:
    """The Multiplier of the last tier whose threshold (Quota x From) <= x, 1 below the first."""
    result = F(1)
    for from_, multiplier in tiers:
        if F(quota) * F(from_) <= F(x):
            result = F(multiplier)
    return result


def ref_pieces(s0, s1, quota, tiers) -> Fraction:
    """The span [s0, s1) cut at the thresholds, each piece's length times its tier's multiplier, summed."""
    s0, s1 = F(s0), F(s1)
    if not tiers:
        return s1 - s0
    thresholds = [F(quota) * F(f) for f, _ in tiers]
    # The tiers as intervals: below the first threshold (x1), then each tier up to the next.
    intervals = [(None, thresholds[0], F(1))]
    for i, (_, multiplier) in enumerate(tiers):
        upper = thresholds[i + 1] if i + 1 < len(tiers) else None
        intervals.append((thresholds[i], upper, F(multiplier)))
    total = F(0)
    for lower, upper, multiplier in intervals:
        lo = s0 if lower is None else max(s0, lower)
        hi = s1 if upper is None else min(s1, upper)
        if hi > lo:
            total += (hi - lo) * multiplier
    return total


def ref_multipliers(amounts, quota, tiers, method) -> list[Fraction]:
    if not tiers:
        return [F(1)] * len(amounts)
    if method == "Retroactive":
        return [ref_m(sum(F(a) for a in amounts), quota, tiers)] * len(amounts)
    out = []
    s0 = F(0)
    for amount in amounts:
        amount = F(amount)
        if amount == 0:
            out.append(ref_m(s0, quota, tiers))
        else:
            out.append(ref_pieces(s0, s0 + amount, quota, tiers) / amount)
        s0 += amount
    return out


def ref_base(rate, per_unit, line_amount, quantity, whole, share) -> Fraction:
    """LineAmount x Rate; per unit: Quantity x AmountPerUnit x f, f = LineAmount / A (Share when A = 0)."""
    if rate is not None:
        return F(line_amount) * F(rate)
    f = F(share) if F(whole) == 0 else F(line_amount) / F(whole)
    return F(quantity) * F(per_unit) * f


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------


def cents(low=0, high=10**8):
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-2))


@st.composite
def share_lists(draw, max_reps=5):
    """Shares in (0, 1] with up to 4 decimals summing to exactly 1 (as §4 promises)."""
    n = draw(st.integers(1, max_reps))
    cuts = sorted(draw(st.lists(st.integers(1, 9999), min_size=n - 1, max_size=n - 1, unique=True)))
    points = [0, *cuts, 10000]
    return [Decimal(b - a).scaleb(-4) for a, b in zip(points, points[1:])]


@st.composite
def payment_lists(draw, total: Decimal, complete=True):
    """Amounts (cents) adding up to ``total`` (or, not complete, to at most ``total``)."""
    total_cents = int(total * 100)
    k = draw(st.integers(1, 5))
    cuts = sorted(draw(st.lists(st.integers(0, total_cents), min_size=k - 1, max_size=k - 1)))
    end = total_cents if complete else draw(st.integers(cuts[-1] if cuts else 0, total_cents))
    points = [0, *cuts, end]
    return [Decimal(b - a).scaleb(-2) for a, b in zip(points, points[1:])]


@st.composite
def schedules(draw):
    """(quota, tiers, method): quota > 0 with 2 decimals, From strictly increasing, 4 decimals."""
    quota = draw(cents(1, 10**7))
    n = draw(st.integers(0, 4))
    froms = sorted(draw(st.lists(st.integers(0, 30000), min_size=n, max_size=n, unique=True)))
    multipliers = draw(st.lists(st.integers(0, 50000), min_size=n, max_size=n))
    tiers = [(Decimal(f).scaleb(-4), Decimal(m).scaleb(-4)) for f, m in zip(froms, multipliers)]
    method = draw(st.sampled_from(["Marginal", "Retroactive"]))
    return quota, tiers, method


def engine_schedule(quota, tiers, method) -> MultiplierSchedule:
    return MultiplierSchedule(
        quota if tiers else None, [AcceleratorSpec(f, m) for f, m in tiers], method
    )


ratings = st.one_of(
    st.integers(0, 10000).map(lambda n: (Decimal(n).scaleb(-4), None)),
    st.integers(0, 10**6).map(lambda n: (None, Decimal(n).scaleb(-4))),
)


@st.composite
def invoice_lines(draw):
    quantity = draw(st.integers(0, 500))
    price = draw(cents(0, 2 * 10**6))
    shares = draw(share_lists())
    rep = draw(st.integers(0, len(shares) - 1))
    rate, per_unit = draw(ratings)
    by_payment = draw(st.booleans())
    whole = Decimal(quantity) * price
    # The invoice's total T is at least this line's amount (other lines make up the rest).
    others = draw(cents(0, 10**7))
    total = whole + others
    if total == 0:
        total = Decimal("1.00")
    payments = draw(payment_lists(total)) if by_payment else None
    returned = draw(st.integers(0, quantity))
    return dict(quantity=quantity, price=price, shares=shares, rep=rep, rate=rate,
                per_unit=per_unit, total=total, payments=payments, returned=returned)


# ---------------------------------------------------------------------------
# Credited amounts
# ---------------------------------------------------------------------------


@SETTINGS
@given(cents(0, 10**10), share_lists())
def test_credits_add_up_to_a_and_stay_near_a_times_s(amount, shares):
    credits = credited_amounts(amount, shares)
    assert len(credits) == len(shares)
    assert sum(credits) == amount
    assert all(isinstance(c, Decimal) and c.as_tuple().exponent == -2 for c in credits)
    n = len(shares)
    for k, (credit, share) in enumerate(zip(credits, shares)):
        error = abs(F(credit) - F(amount) * F(share))
        # Each rounded credit is within half a cent; the last carries the others' errors.
        assert error <= (F(1, 200) if k < n - 1 else F(n - 1, 200))
        if n <= 3:
            assert error <= CENT
    assert credits == ref_credits(amount, shares)


@SETTINGS
@given(cents(0, 10**8), share_lists(max_reps=3))
def test_credits_are_within_a_cent_for_up_to_three_reps(amount, shares):
    for credit, share in zip(credited_amounts(amount, shares), shares):
        assert abs(F(credit) - F(amount) * F(share)) <= CENT


# ---------------------------------------------------------------------------
# Payment shares
# ---------------------------------------------------------------------------


@st.composite
def payment_cases(draw, complete):
    total = draw(cents(1, 10**9))
    credited = draw(st.integers(0, int(total * 100)).map(lambda n: Decimal(n).scaleb(-2)))
    payments = draw(payment_lists(total, complete=complete))
    return credited, total, payments


@SETTINGS
@given(payment_cases(complete=True))
def test_payment_shares_add_up_to_the_credit_once_paid(case):
    credited, total, payments = case
    shares = payment_shares(credited, total, payments)
    assert len(shares) == len(payments)
    assert sum(shares) == credited
    assert all(s >= 0 and s.as_tuple().exponent == -2 for s in shares)


@SETTINGS
@given(payment_cases(complete=False))
def test_every_partial_sum_is_the_rounded_cumulative_share(case):
    credited, total, payments = case
    shares = payment_shares(credited, total, payments)
    received = F(0)
    paid = F(0)
    for payment, share in zip(payments, shares):
        received += F(payment)
        paid += F(share)
        assert paid == ref_round(F(credited) * received / F(total))
    assert shares == ref_payment_amounts(credited, total, payments)


# ---------------------------------------------------------------------------
# Accelerators
# ---------------------------------------------------------------------------


@SETTINGS
@given(schedules(), st.lists(cents(0, 10**7), max_size=12))
def test_marginal_multipliers_pay_the_integral_of_m(schedule, amounts):
    quota, tiers, _ = schedule
    engine = engine_schedule(quota, tiers, "Marginal")
    multipliers = engine.multipliers(amounts)
    weighted = sum((F(a) * m for a, m in zip(amounts, multipliers)), F(0))
    assert weighted == ref_pieces(0, sum(F(a) for a in amounts), quota, tiers)
    assert multipliers == ref_multipliers(amounts, quota, tiers, "Marginal")
    # Each line one by one, from its running total.
    s0 = Decimal(0)
    for amount, m in zip(amounts, multipliers):
        assert engine.marginal(s0, amount) == m
        assert F(engine.weighted_sum(s0, amount)) == ref_pieces(s0, s0 + amount, quota, tiers)
        s0 += amount


@SETTINGS
@given(schedules(), st.lists(cents(0, 10**7), max_size=12))
def test_retroactive_is_m_of_the_sales_total(schedule, amounts):
    quota, tiers, _ = schedule
    engine = engine_schedule(quota, tiers, "Retroactive")
    total = sum(amounts, Decimal(0))
    assert engine.multipliers(amounts) == [ref_m(total, quota, tiers) if tiers else 1] * len(amounts)
    assert engine.retroactive(total) == (ref_m(total, quota, tiers) if tiers else 1)


@SETTINGS
@given(schedules(), cents(0, 10**8))
def test_m_is_the_last_tier_reached(schedule, x):
    quota, tiers, method = schedule
    assert engine_schedule(quota, tiers, method).m(x) == (ref_m(x, quota, tiers) if tiers else 1)


# ---------------------------------------------------------------------------
# Storage of the exact multiplier
# ---------------------------------------------------------------------------


def decimals(value: Decimal) -> int:
    n = 0
    while F(value) * 10**n != int(F(value) * 10**n):
        n += 1
    return n


@SETTINGS
@given(schedules(), st.lists(cents(0, 10**7), min_size=1, max_size=8))
def test_stored_multipliers_round_trip_and_fit_numeric_columns(schedule, amounts):
    quota, tiers, method = schedule
    engine = engine_schedule(quota, tiers, method)
    for amount, m in zip(amounts, engine.multipliers(amounts)):
        num, den = multiplier_to_storage(m)
        assert isinstance(num, Decimal) and isinstance(den, Decimal)
        assert multiplier_from_storage(num, den) == m
        assert decimals(num) <= 10 and decimals(den) <= 2 and den > 0
        assert den == 1 or den <= amount  # the denominator divides the line amount
        assert num <= max([F(1)] + [F(mult) for _, mult in tiers]) * F(den)  # num = m x den
        assert display_multiplier(m) == ref_round(m, 6)


@SETTINGS
@given(st.fractions(min_value=0, max_value=10**6, max_denominator=10**15))
def test_storage_round_trips_any_fraction(m):
    num, den = multiplier_to_storage(m)
    assert multiplier_from_storage(num, den) == m
    assert decimals(num) <= 10 and decimals(den) <= 2 and den > 0


# ---------------------------------------------------------------------------
# Whole statements against the reference
# ---------------------------------------------------------------------------


def engine_statement(lines, schedule):
    """The engine's answer: per statement line (LineAmount, Multiplier, Commission), plus per
    invoice line the clawback commission of its returned units and their LineAmount."""
    rows = []  # (line index, LineAmount, rating)
    for i, line in enumerate(lines):
        whole = Decimal(line["quantity"]) * line["price"]
        credited = credited_amounts(whole, line["shares"])[line["rep"]]
        if line["payments"] is None:
            amounts = [credited]
        else:
            amounts = [s for s in payment_shares(credited, line["total"], line["payments"]) if s]
        rating = Rating(line["rate"], "Rule: r", line["per_unit"])
        rows += [(i, a, rating) for a in amounts]
    multipliers = engine_schedule(*schedule).multipliers([a for _, a, _ in rows])
    out, last = [], {}
    for (i, amount, rating), m in zip(rows, multipliers):
        line = lines[i]
        args = dict(line_amount=amount, quantity=line["quantity"],
                    whole_amount=Decimal(line["quantity"]) * line["price"], share=line["shares"][line["rep"]])
        paid = commission(base_commission(rating, **args), m)
        assert line_commission(rating, multiplier=m, **args) == paid
        out.append((amount, m, paid))
        last[i] = (rating, multiplier_to_storage(m))
    clawbacks = []
    for i, line in enumerate(lines):
        if i not in last or not line["returned"]:
            continue
        rating, stored = last[i]
        back = credited_amounts(Decimal(line["returned"]) * line["price"], line["shares"])[line["rep"]]
        clawbacks.append((-back, clawback_commission(
            rating, line_amount=-back, quantity=-line["returned"], price=line["price"],
            share=line["shares"][line["rep"]], multiplier=multiplier_from_storage(*stored))))
    return out, clawbacks


def ref_statement(lines, schedule):
    quota, tiers, method = schedule
    rows = []
    for i, line in enumerate(lines):
        whole = line["quantity"] * F(line["price"])
        credited = ref_credits(whole, line["shares"])[line["rep"]]
        if line["payments"] is None:
            amounts = [credited]
        else:
            amounts = [a for a in ref_payment_amounts(credited, line["total"], line["payments"]) if a != 0]
        rows += [(i, a) for a in amounts]
    multipliers = ref_multipliers([a for _, a in rows], quota, tiers, method)
    out, last = [], {}
    for (i, amount), m in zip(rows, multipliers):
        line = lines[i]
        base = ref_base(line["rate"], line["per_unit"], amount, line["quantity"],
                        line["quantity"] * F(line["price"]), line["shares"][line["rep"]])
        out.append((amount, m, ref_round(base * m)))
        last[i] = m
    clawbacks = []
    for i, line in enumerate(lines):
        if i not in last or not line["returned"]:
            continue
        q = line["returned"]
        back = ref_credits(q * F(line["price"]), line["shares"])[line["rep"]]
        base = ref_base(line["rate"], line["per_unit"], abs(back), q, q * F(line["price"]),
                        line["shares"][line["rep"]])
        clawbacks.append((-back, -ref_round(base * last[i])))
    return out, clawbacks


@settings(SETTINGS, max_examples=150)
@given(st.lists(invoice_lines(), min_size=1, max_size=6), schedules())
def test_statement_lines_agree_with_the_reference(lines, schedule):
    got, got_back = engine_statement(lines, schedule)
    want, want_back = ref_statement(lines, schedule)
    assert got == want
    assert got_back == want_back
    for amount, _, paid in got:
        assert isinstance(amount, Decimal) and isinstance(paid, Decimal)
        assert paid.as_tuple().exponent == -2
    for amount, paid in got_back:
        assert amount <= 0 and paid <= 0 and str(paid) != "-0.00"


@SETTINGS
@given(invoice_lines(), st.fractions(min_value=0, max_value=10, max_denominator=10**6))
def test_returning_a_whole_invoice_basis_line_mirrors_its_commission(line, m):
    whole = Decimal(line["quantity"]) * line["price"]
    share = line["shares"][line["rep"]]
    credited = credited_amounts(whole, line["shares"])[line["rep"]]
    rating = Rating(line["rate"], "Rule: r", line["per_unit"])
    paid = commission(base_commission(rating, line_amount=credited, quantity=line["quantity"],
                                      whole_amount=whole, share=share), m)
    back = clawback_commission(rating, line_amount=-credited, quantity=-line["quantity"],
                               price=line["price"], share=share, multiplier=m)
    assert back == -paid
