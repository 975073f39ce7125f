"""A deliberately slow, plain reading of the commission rules (docs/commissions.md): what one commission statement holds.

Plain data in (the rep's plan; the invoices with their lines, the order's credits, the payments in
recording order with their local days and the credit memos; the rep's lines already on statements
that are not void; the period and IncludeEarlier), the statement out: its lines and totals. Written
from the spec's sentences, one after the other, with `Fraction`s and an explicit half-away-from-zero
rounding. It calls nothing of `commissions.engine` nor of the statement generator, so the property
tests can hold the product to it. Keys (invoice, line, payment, memo line) are opaque to it.
"""
from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

INVOICE, PAYMENT = "Invoice", "Payment"
MARGINAL, RETROACTIVE = "Marginal", "Retroactive"


# ---------------------------------------------------------------- plain data in


@dataclass(frozen=True)
class Rule:
    """A rule of the plan or of an override: pays `rate` or `amount_per_unit`, never both."""

    priority: int
    name: str
    rate: Decimal | None = None
    amount_per_unit: Decimal | None = None
    sku_patterns: tuple[str, ...] = ()
    product_name_patterns: tuple[str, ...] = ()
    customer_numbers: tuple[str, ...] = ()
    min_line_amount: Decimal | None = None
    max_line_amount: Decimal | None = None


@dataclass(frozen=True)
class Override:
    customer_number: str
    default_rate: Decimal | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Tier:
    from_attainment: Decimal
    multiplier: Decimal


@dataclass(frozen=True)
class Plan:
    default_rate: Decimal
    basis: str = INVOICE
    rules: tuple[Rule, ...] = ()
    overrides: tuple[Override, ...] = ()
    start: datetime.date | None = None
    end: datetime.date | None = None
    quota: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    method: str = MARGINAL


@dataclass(frozen=True)
class InvoiceLine:
    key: object
    position: int
    sku: str
    product_name: str
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class Payment:
    key: object
    amount: Decimal
    day: datetime.date  # the calendar day of its PaidAt in the organization's time zone


@dataclass(frozen=True)
class MemoLine:
    key: object
    invoice_line_key: object
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class CreditMemo:
    day: datetime.date  # its CreditDate
    lines: tuple[MemoLine, ...]


@dataclass(frozen=True)
class Invoice:
    key: object
    number: str
    customer_number: str
    currency_code: str
    lines: tuple[InvoiceLine, ...]
    credits: tuple[tuple[object, Decimal], ...]  # (rep, share), in the order given
    payments: tuple[Payment, ...] = ()  # in the order they were recorded
    memos: tuple[CreditMemo, ...] = ()


# ---------------------------------------------------------------- the statement out


@dataclass(frozen=True)
class Line:
    """One statement line. Amounts are exact Fractions (cents); `multiplier` exact."""

    invoice_key: object
    invoice_number: str
    invoice_line_key: object
    payment_key: object | None  # set on lines earned by one payment
    memo_line_key: object | None  # set on clawbacks
    date: datetime.date
    position: int
    payment_order: int | None  # the payment's place in recording order
    quantity: int
    line_amount: Fraction
    share: Decimal
    rate: Decimal | None
    amount_per_unit: Decimal | None
    rate_source: str
    base: Fraction
    multiplier: Fraction
    commission: Fraction

    @property
    def is_clawback(self) -> bool:
        return self.memo_line_key is not None

    @property
    def identity(self) -> tuple:
        return (self.invoice_line_key, self.payment_key, self.memo_line_key)


@dataclass(frozen=True)
class Statement:
    lines: tuple[Line, ...]
    sales_total: Fraction
    lines_total: Fraction
    quota: Decimal | None
    attainment: Fraction | None


# ---------------------------------------------------------------- arithmetic


def half_away(value, places: int = 2) -> Fraction:
    """*round*: half-up, half away from zero, negative amounts included."""
    value = Fraction(value)
    scale = 10**places
    magnitude = Fraction(math.floor(abs(value) * scale + Fraction(1, 2)), scale)
    return -magnitude if value < 0 else magnitude


def as_decimal(value: Fraction, places: int = 2) -> Decimal:
    """An exact Fraction of at most `places` decimals as a Decimal of exactly `places` decimals."""
    scaled = Fraction(value) * 10**places
    if scaled.denominator != 1:
        raise ValueError(f"{value} has more than {places} decimals")
    return Decimal(scaled.numerator).scaleb(-places)


def credited_amounts(amount: Fraction, shares: list[Decimal]) -> list[Fraction]:
    """"rep k < n is credited round(A × Sₖ) and the last rep A minus the others' credits"."""
    credits = [half_away(amount * Fraction(share)) for share in shares[:-1]]
    credits.append(amount - sum(credits, Fraction(0)))
    return credits


def glob_matches(pattern: str, value: str) -> bool:
    """`*` any run of characters, `?` one character, everything else literal; the whole value,
    case-insensitively. Walks the pattern keeping every position of the value it can have reached."""
    pattern, value = pattern.casefold(), value.casefold()
    reached = {0}
    for char in pattern:
        if char == "*":
            reached = set(range(min(reached), len(value) + 1)) if reached else set()
        elif char == "?":
            reached = {at + 1 for at in reached if at < len(value)}
        else:
            reached = {at + 1 for at in reached if at < len(value) and value[at] == char}
    return len(value) in reached


def in_window(day: datetime.date, start, end) -> bool:
    """"An effective window includes a line when start ≤ date ≤ end (no end: open)"."""
    return (start is None or start <= day) and (end is None or day <= end)


def rule_matches(rule: Rule, *, sku: str, product_name: str, customer_number: str, amount: Fraction) -> bool:
    if rule.sku_patterns and not any(glob_matches(p, sku) for p in rule.sku_patterns):
        return False
    if rule.product_name_patterns and not any(glob_matches(p, product_name) for p in rule.product_name_patterns):
        return False
    if rule.customer_numbers and customer_number not in rule.customer_numbers:
        return False
    if rule.min_line_amount is not None and not Fraction(rule.min_line_amount) <= amount:
        return False
    if rule.max_line_amount is not None and not amount <= Fraction(rule.max_line_amount):
        return False
    return True


@dataclass(frozen=True)
class Rating:
    rate: Decimal | None
    amount_per_unit: Decimal | None
    source: str


def rating(plan: Plan, *, sku: str, product_name: str, customer_number: str, amount: Fraction,
           day: datetime.date) -> Rating | None:
    """The rate of a line, first answer wins; None when the line is outside the plan's window."""
    if not in_window(day, plan.start, plan.end):
        return None

    def first_rule(rules, source):
        for rule in sorted(rules, key=lambda r: r.priority):
            if rule_matches(rule, sku=sku, product_name=product_name, customer_number=customer_number, amount=amount):
                return Rating(rule.rate, rule.amount_per_unit, source(rule))
        return None

    for override in plan.overrides:
        if override.customer_number != customer_number or not in_window(day, override.start, override.end):
            continue
        found = first_rule(override.rules, lambda r: f"Override {customer_number}: Rule: {r.name}")
        if found:
            return found
        if override.default_rate is not None:
            return Rating(override.default_rate, None, f"Override {customer_number}: default")
        break  # no DefaultRate: continue with step 2
    found = first_rule(plan.rules, lambda r: f"Rule: {r.name}")
    if found:
        return found
    return Rating(plan.default_rate, None, "Plan default")


def base_commission(rated: Rating, *, line_amount: Fraction, quantity: int, whole: Fraction,
                    share: Decimal) -> Fraction:
    """`LineAmount × Rate`; per unit `Quantity × AmountPerUnit × f`, f = LineAmount / A (Share when A = 0)."""
    if rated.rate is not None:
        return line_amount * Fraction(rated.rate)
    part = Fraction(share) if whole == 0 else line_amount / whole
    return quantity * Fraction(rated.amount_per_unit) * part


def tier_multiplier(plan: Plan, x: Fraction) -> Fraction:
    """m(x): the Multiplier of the last tier whose threshold (Quota × From) ≤ x; 1 below the first."""
    found = Fraction(1)
    for tier in plan.tiers:
        if Fraction(plan.quota) * Fraction(tier.from_attainment) <= x:
            found = Fraction(tier.multiplier)
    return found


def weighted(plan: Plan, s0: Fraction, s1: Fraction) -> Fraction:
    """Σ piece × multiplier over [s0, s1): the span cut at the thresholds."""
    cuts = sorted({s0, s1} | {Fraction(plan.quota) * Fraction(t.from_attainment) for t in plan.tiers
                             if s0 < Fraction(plan.quota) * Fraction(t.from_attainment) < s1})
    return sum(((high - low) * tier_multiplier(plan, low) for low, high in zip(cuts, cuts[1:])), Fraction(0))


# ---------------------------------------------------------------- the statement


def statement(*, rep, plan: Plan, invoices: list[Invoice], period_start: datetime.date, period_end: datetime.date,
              include_earlier: bool, currency_code: str, live: list[Line]) -> Statement:
    """The statement of `rep` for the period. `live`: the rep's lines on its statements that are not
    `Void` (sales lines and clawbacks, as this function returned them)."""

    def dated_in(day: datetime.date) -> bool:
        return day <= period_end and (include_earlier or period_start <= day)

    sales: list[Line] = []
    for invoice in invoices:
        reps = [credited for credited, _ in invoice.credits]
        if invoice.currency_code != currency_code or rep not in reps:
            continue
        mine = reps.index(rep)
        share = invoice.credits[mine][1]
        shares = [s for _, s in invoice.credits]
        total = sum((Fraction(line.quantity) * Fraction(line.price) for line in invoice.lines), Fraction(0))
        received = sum((Fraction(p.amount) for p in invoice.payments), Fraction(0))
        paid_on = invoice.payments[-1].day if invoice.payments and received == total else None
        for line in invoice.lines:
            whole = line.quantity * Fraction(line.price)
            credited = credited_amounts(whole, shares)[mine]
            before = [x for x in live if x.invoice_line_key == line.key and not x.is_clawback]
            if any(x.payment_key is None for x in before):
                continue  # a line that earned whole is done
            taken = {x.payment_key for x in before}
            earnings = []
            if before or plan.basis == PAYMENT:  # began by payments: finishes by payments
                so_far = Fraction(0)
                for order, payment in enumerate(invoice.payments):
                    previous = half_away(credited * so_far / total)
                    so_far += Fraction(payment.amount)
                    part = half_away(credited * so_far / total) - previous
                    if part != 0 and payment.key not in taken and dated_in(payment.day):
                        earnings.append((part, payment.day, payment.key, order))
            elif paid_on is not None and dated_in(paid_on):
                earnings.append((credited, paid_on, None, None))
            for amount, day, payment_key, order in earnings:
                rated = rating(plan, sku=line.sku, product_name=line.product_name,
                               customer_number=invoice.customer_number, amount=whole, day=day)
                if rated is None:
                    continue  # outside the plan's window: left out, stays eligible
                base = base_commission(rated, line_amount=amount, quantity=line.quantity, whole=whole, share=share)
                sales.append(Line(
                    invoice_key=invoice.key, invoice_number=invoice.number, invoice_line_key=line.key,
                    payment_key=payment_key, memo_line_key=None, date=day, position=line.position,
                    payment_order=order, quantity=line.quantity, line_amount=amount, share=share, rate=rated.rate,
                    amount_per_unit=rated.amount_per_unit, rate_source=rated.source, base=base,
                    multiplier=Fraction(1), commission=half_away(base),
                ))

    sales_total = sum((x.line_amount for x in sales), Fraction(0))
    if plan.tiers:
        if plan.method == RETROACTIVE:
            fixed = tier_multiplier(plan, sales_total)
            sales = [replace(x, multiplier=fixed, commission=half_away(x.base * fixed)) for x in sales]
        else:
            ordered = sorted(sales, key=lambda x: (x.date, x.invoice_number, x.position,
                                                   -1 if x.payment_order is None else x.payment_order))
            multiplied, s0 = [], Fraction(0)
            for x in ordered:
                if x.line_amount == 0:
                    multiplier = tier_multiplier(plan, s0)
                else:
                    multiplier = weighted(plan, s0, s0 + x.line_amount) / x.line_amount
                s0 += x.line_amount
                multiplied.append(replace(x, multiplier=multiplier, commission=half_away(x.base * multiplier)))
            sales = multiplied

    clawbacks: list[Line] = []
    commissioned = [x for x in live if not x.is_clawback] + sales  # the statement being made included
    clawed = {x.memo_line_key for x in live if x.is_clawback}
    for invoice in invoices:
        reps = [credited for credited, _ in invoice.credits]
        if invoice.currency_code != currency_code or rep not in reps:
            continue
        mine = reps.index(rep)
        shares = [s for _, s in invoice.credits]
        lines = {line.key: line for line in invoice.lines}
        for memo in invoice.memos:
            if not dated_in(memo.day) or not in_window(memo.day, plan.start, plan.end):
                continue  # "A line whose date falls outside the plan's effective window is left out"
            for returned in memo.lines:
                originals = [x for x in commissioned if x.invoice_line_key == returned.invoice_line_key]
                if returned.key in clawed or not originals:
                    continue
                last = max(originals, key=lambda x: (x.date, -1 if x.payment_order is None else x.payment_order))
                whole = returned.quantity * Fraction(returned.price)
                amount = credited_amounts(whole, shares)[mine]
                rated = Rating(last.rate, last.amount_per_unit, last.rate_source)
                base = base_commission(rated, line_amount=amount, quantity=returned.quantity, whole=whole,
                                       share=last.share)
                line = lines[returned.invoice_line_key]
                clawbacks.append(Line(
                    invoice_key=invoice.key, invoice_number=invoice.number, invoice_line_key=returned.invoice_line_key,
                    payment_key=None, memo_line_key=returned.key, date=memo.day, position=line.position,
                    payment_order=None, quantity=-returned.quantity, line_amount=-amount, share=last.share,
                    rate=last.rate, amount_per_unit=last.amount_per_unit, rate_source=f"Clawback ({last.rate_source})",
                    base=base, multiplier=last.multiplier, commission=-half_away(base * last.multiplier),
                ))

    lines = tuple(sales + clawbacks)
    attainment = None if plan.quota is None else half_away(sales_total / Fraction(plan.quota), 4)
    return Statement(lines=lines, sales_total=sales_total,
                     lines_total=sum((x.commission for x in lines), Fraction(0)), quota=plan.quota,
                     attainment=attainment)
