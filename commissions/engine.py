"""Commission engine: pure Python (stdlib + Decimal + fractions), no Django.

Two parts: the *rate engine* (which rule / default pays a line, compiled to
bitmasks, below) and the *commission arithmetic* of docs/commissions.md (credited amounts,
payment shares, accelerators, base commission, commission, clawbacks and the
exact storage of multipliers; see "Commission arithmetic" further
down).  The statement generator only moves rows: every number it writes on a
statement comes out of a function of this module.

The product contract
====================

A *line* has ``sku``, ``product_name``, ``customer_number`` (all ``str``),
``amount`` (``Decimal``: Quantity x Price with 2 decimals) and ``date``
(``datetime.date``, the calendar day the line counts on).

``amount`` is the invoice line's WHOLE amount A = Quantity x Price, whatever
the rep's credit of it or the payment's share of it (§6: "``MinLineAmount`` <=
A; A <= ``MaxLineAmount`` (A the invoice line's whole amount, whatever the
credit or the payment share)").  A statement line with ``LineAmount`` 33.33
of an invoice line of 100.00 is rated with ``amount=100.00``.  (A clawback is
not rated at all: it takes the rating of the line it returns, see
:func:`clawback_commission`.)

A *plan* (:class:`PlanSpec`) has a ``default_rate``, an optional effective
window, prioritised *rules* and *customer overrides*.  An effective window
includes a line when ``start <= date <= end``; a ``None`` start / end is open.

* If the line's date is outside the plan's window the line is left out:
  :meth:`CompiledPlan.rate` returns ``None``.
* Otherwise the rate is the first answer of:

  1. The plan's override for the line's customer (exact ``customer_number``
     match) that is effective on the line's date: its rules in ascending
     priority, the first that matches; else its ``default_rate`` if set.  If it
     has no ``default_rate`` (and no rule of it matched) continue with step 2.
     An override that is not effective on the date is ignored entirely.
     If several overrides exist for one customer (e.g. disjoint windows), the
     *first one effective on the date, in the order given* is the one that
     applies; later ones are not consulted for that line, even when it falls
     through to step 2.
  2. The plan's rules in ascending priority, the first that matches.
  3. The plan's ``default_rate``.

* A rule matches when every criterion it sets holds (an unset / empty
  criterion holds, so a rule without criteria matches everything):

  - ``sku_patterns``: any pattern matches the SKU;
  - ``product_name_patterns``: any pattern matches the product name;
  - ``customer_numbers``: the line's customer is listed (exact string);
  - ``min_line_amount <= amount`` and ``amount <= max_line_amount``
    (inclusive; a rule whose min is above its max matches nothing).

  Rules are evaluated in ascending ``priority`` whatever the order of the
  tuple; priorities must be unique within the plan and within each override
  (:func:`compile_plan` raises ``ValueError`` otherwise).

* Patterns are globs: ``*`` is any run of characters (including none), ``?``
  exactly one character, and *everything else is literal* (``A[1]``, ``50%``,
  ``a.b``, ``x+y``, ``\\``, ``^$`` ...; this is deliberately not ``fnmatch``).
  A pattern must match the *whole* value.  Matching is case-insensitive:
  both the pattern and the value are passed through :meth:`str.casefold`
  (so ``?`` matches one character of the case-folded text; e.g. German
  ``"ß"`` folds to ``"ss"``).  The empty pattern matches only the empty value.

* Rating sources (:attr:`Rating.source`): ``"Rule: {name}"`` for a plan rule,
  ``"Plan default"``, ``"Override {customer_number}: Rule: {name}"`` for an
  override rule and ``"Override {customer_number}: default"``.

* The commission of a line is ``amount * rate`` rounded half-up to cents
  (:func:`commission_for`).  ``ROUND_HALF_UP`` on ``Decimal`` rounds a
  half cent *away from zero*, so ``-0.125`` becomes ``-0.13`` (a clawback
  mirrors the original line exactly).

Rates (plan / override defaults and rule rates) must be finite Decimals in
``[0, 1]`` with at most 4 decimals; :func:`compile_plan` raises ``ValueError``
otherwise.

A rule pays either a ``rate`` or an ``amount_per_unit`` (§4: "A rule (of the
plan or of an override) pays either a ``Rate`` or an ``AmountPerUnit`` (a
decimal >= 0 with up to 4 decimals, paid per unit sold), never both, never
neither"): exactly one of the two is set, and ``amount_per_unit`` is a finite
Decimal >= 0 with at most 4 decimals; :func:`compile_plan` raises
``ValueError`` otherwise.  The :class:`Rating` of a per-unit rule has
``rate=None`` and its ``amount_per_unit``; every other rating has a ``rate``
and ``amount_per_unit=None``.  Plan and override defaults are always rates.

Worked example
--------------
::

    plan = PlanSpec(
        default_rate=Decimal("0.05"),
        rules=(
            RuleSpec(priority=20, name="Big orders", rate=Decimal("0.03"),
                     min_line_amount=Decimal("1000.00")),
            RuleSpec(priority=10, name="Widgets", rate=Decimal("0.10"),
                     sku_patterns=("WID-*",)),
        ),
        overrides=(
            OverrideSpec(customer_number="C42", default_rate=Decimal("0.02")),
        ),
    )

Three lines (sku, customer, amount) and what the engine answers::

    ("wid-7", "C1",  Decimal("1500.00")) -> 0.10  "Rule: Widgets"          commission 150.00
    ("GAD-1", "C1",  Decimal("1000.00")) -> 0.03  "Rule: Big orders"       commission  30.00
    ("WID-7", "C42", Decimal("-12.25"))  -> 0.02  "Override C42: default"  commission  -0.25

The first line matches both rules; ``Widgets`` has the lower priority number
so it wins (and ``wid-7`` matches ``WID-*`` case-insensitively).  The second
line is exactly at the inclusive minimum of ``Big orders``.  The third line
belongs to C42, whose override has no rules but a default rate, so the plan's
rules are never consulted; ``-12.25 x 0.02 = -0.245`` rounds half-up (away
from zero) to ``-0.25``.  A line from ``C7`` with SKU ``GAD-1`` and amount
``999.99`` matches nothing and gets ``Plan default`` at 0.05.

Implementation
--------------
:func:`compile_plan` flattens every outcome into one bit position, in
precedence order (lowest bit wins)::

    bit 0            "outside the plan window"  -> None
    next bits        each override, in the given order: its rules by
                     ascending priority, then its default (if it has one)
    next bits        plan rules by ascending priority
    highest bit      plan default

A line's candidate set is the AND of a per-SKU mask, a per-product-name mask,
a per-customer mask (per customer *and date* for customers with overrides)
and a per-date mask, all memoised on first sight.  Only when the lowest
candidate is a rule with amount bounds is the amount consulted (two
``bisect`` look-ups giving the rules whose bounds hold).  The answer is the
pre-built :class:`Rating` of the lowest set bit, so rating a line allocates
nothing once the caches are warm.  The caches grow with the number of
distinct SKUs / names / customers / dates seen by one ``CompiledPlan``
(filling them is idempotent, so sharing one instance between threads is safe
under the GIL).  Globs compile to regexes with atomic groups, which needs
Python 3.11+.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction
from typing import Iterable, Iterator, Literal, Sequence

__all__ = [
    "RuleSpec",
    "OverrideSpec",
    "PlanSpec",
    "Rating",
    "CompiledPlan",
    "compile_plan",
    "glob_to_regex",
    "glob_to_regex_source",
    "commission_for",
    "PLAN_DEFAULT_SOURCE",
    # Commission arithmetic (docs/commissions.md)
    "round_cents",
    "credited_amounts",
    "payment_shares",
    "AcceleratorSpec",
    "MultiplierSchedule",
    "MARGINAL",
    "RETROACTIVE",
    "base_commission",
    "commission",
    "line_commission",
    "clawback_commission",
    "display_multiplier",
    "attainment",
    "multiplier_to_storage",
    "multiplier_from_storage",
]

PLAN_DEFAULT_SOURCE = "Plan default"

CENT = Decimal("0.01")
_RATE_QUANTUM = Decimal("0.0001")
# A private context so the caller's thread context (precision, rounding,
# traps) cannot change results; 60 digits keep ``amount * rate`` exact.
_CTX = Context(prec=60, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------
# Specs (plain data, built by the caller from the database)
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One rule; it pays exactly one of ``rate`` and ``amount_per_unit``."""

    priority: int
    name: str
    rate: Decimal | None = None
    sku_patterns: tuple[str, ...] = ()
    product_name_patterns: tuple[str, ...] = ()
    customer_numbers: tuple[str, ...] = ()
    min_line_amount: Decimal | None = None
    max_line_amount: Decimal | None = None
    amount_per_unit: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OverrideSpec:
    customer_number: str
    default_rate: Decimal | None = None
    effective_start: date | None = None
    effective_end: date | None = None
    rules: tuple[RuleSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanSpec:
    default_rate: Decimal
    effective_start: date | None = None
    effective_end: date | None = None
    rules: tuple[RuleSpec, ...] = ()
    overrides: tuple[OverrideSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Rating:
    """What pays a line: a ``rate``, or (per-unit rules) an ``amount_per_unit``.

    Exactly one of the two is set; ``source`` is the statement's
    ``RateSource`` (§6: "``RateSource`` says where the rate came from").
    """

    rate: Decimal | None
    source: str
    amount_per_unit: Decimal | None = None


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def glob_to_regex_source(pattern: str) -> str:
    """Regex source for one glob, for use with ``fullmatch`` on casefolded text.

    ``?`` becomes ``.``, every other character except ``*`` is escaped (i.e.
    literal), and the pattern is casefolded.  ``*`` splits the pattern into
    fixed-length segments: the first is anchored at the start, the last at
    the end, and each middle one is taken at its leftmost occurrence inside an
    atomic group ``(?>.*?seg)`` (Python 3.11+).  Leftmost is always the right
    choice for a glob, and the atomic group stops the regex engine from
    retrying other occurrences, so ``*a*a*a*b`` stays linear-ish instead of
    backtracking exponentially on long values.
    """

    def literal(segment: str) -> str:
        return "".join("." if ch == "?" else re.escape(ch) for ch in segment)

    first, *rest = pattern.casefold().split("*")
    if not rest:
        return literal(first)
    *middle, last = rest
    return (
        literal(first)
        + "".join(f"(?>.*?{literal(seg)})" for seg in middle if seg)
        + ".*"
        + literal(last)
    )


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Compile one glob; use ``.fullmatch(value.casefold())`` to test a value."""
    return re.compile(glob_to_regex_source(pattern), re.DOTALL)


def _compile_globs(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex matching (with ``fullmatch``) when any of the globs matches."""
    if not patterns:
        return None
    source = "|".join(f"(?:{glob_to_regex_source(p)})" for p in patterns)
    return re.compile(source, re.DOTALL)


def in_window(day: date, start: date | None, end: date | None) -> bool:
    """``start <= day <= end`` with ``None`` meaning open."""
    return (start is None or start <= day) and (end is None or day <= end)


def commission_for(amount: Decimal, rate: Decimal) -> Decimal:
    """``amount * rate`` rounded half-up to cents.

    ``ROUND_HALF_UP`` rounds a half cent away from zero, for negative amounts
    too: ``0.125 -> 0.13`` and ``-0.125 -> -0.13``.  Independent of the
    caller's decimal context.
    """
    return _CTX.multiply(amount, rate).quantize(CENT, rounding=ROUND_HALF_UP, context=_CTX)


def _check_rate(rate: object, what: str) -> None:
    if not isinstance(rate, Decimal) or not rate.is_finite():
        raise ValueError(f"{what}: rate must be a finite Decimal, got {rate!r}")
    if not (0 <= rate <= 1):
        raise ValueError(f"{what}: rate {rate} is outside [0, 1]")
    if rate.quantize(_RATE_QUANTUM, context=_CTX) != rate:
        raise ValueError(f"{what}: rate {rate} has more than 4 decimals")


def _has_places(value: Decimal, places: int) -> bool:
    """``value`` (finite) has at most ``places`` decimals, by value (``1.50000`` has 1)."""
    return (Fraction(value) * 10**places).denominator == 1


def _check_decimal(value: object, what: str, places: int) -> None:
    """A finite Decimal >= 0 with at most ``places`` decimals."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{what} must be a finite Decimal, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} {value} is negative")
    if not _has_places(value, places):
        raise ValueError(f"{what} {value} has more than {places} decimals")


def _rule_rating(rule: RuleSpec, owner: str, source: str) -> Rating:
    """Validate what ``rule`` pays and build its :class:`Rating`."""
    what = f"{owner}, rule {rule.name!r}"
    if (rule.rate is None) == (rule.amount_per_unit is None):
        raise ValueError(f"{what}: pays either a rate or an amount_per_unit, never both, never neither")
    if rule.rate is not None:
        _check_rate(rule.rate, what)
        return Rating(rule.rate, source)
    _check_decimal(rule.amount_per_unit, f"{what}: amount_per_unit", 4)
    return Rating(None, source, rule.amount_per_unit)


def _sorted_rules(rules: tuple[RuleSpec, ...], owner: str) -> list[RuleSpec]:
    ordered = sorted(rules, key=lambda r: r.priority)
    for prev, cur in zip(ordered, ordered[1:]):
        if prev.priority == cur.priority:
            raise ValueError(
                f"{owner}: rules {prev.name!r} and {cur.name!r} share priority {cur.priority}"
            )
    return ordered


# --------------------------------------------------------------------------
# Compilation
# --------------------------------------------------------------------------


class _Slot:
    """One outcome (bit) of a compiled plan."""

    __slots__ = ("rating", "sku_re", "name_re", "customers", "min_amount", "max_amount")

    def __init__(self, rating: Rating | None, rule: RuleSpec | None = None) -> None:
        self.rating = rating
        self.sku_re = _compile_globs(tuple(rule.sku_patterns)) if rule else None
        self.name_re = _compile_globs(tuple(rule.product_name_patterns)) if rule else None
        self.customers = frozenset(rule.customer_numbers) if rule else frozenset()
        self.min_amount = rule.min_line_amount if rule else None
        self.max_amount = rule.max_line_amount if rule else None


def compile_plan(plan: PlanSpec) -> CompiledPlan:
    """Validate ``plan`` and build the fast :class:`CompiledPlan` (do it once)."""
    return CompiledPlan(plan)


class CompiledPlan:
    """A plan ready to rate many lines; see the module docstring."""

    def __init__(self, plan: PlanSpec) -> None:
        _check_rate(plan.default_rate, "plan default")
        self.plan = plan

        slots: list[_Slot] = [_Slot(None)]  # bit 0: line outside the plan window
        override_bits: list[int] = []  # all bits belonging to override i
        for i, ov in enumerate(plan.overrides):
            owner = f"override {ov.customer_number!r}"
            prefix = f"Override {ov.customer_number}: "
            first = len(slots)
            for rule in _sorted_rules(ov.rules, owner):
                slots.append(_Slot(_rule_rating(rule, owner, f"{prefix}Rule: {rule.name}"), rule))
            if ov.default_rate is not None:
                _check_rate(ov.default_rate, f"{owner} default")
                slots.append(_Slot(Rating(ov.default_rate, f"{prefix}default")))
            override_bits.append(((1 << len(slots)) - 1) ^ ((1 << first) - 1))
        plan_first = len(slots)
        for rule in _sorted_rules(plan.rules, "plan"):
            slots.append(_Slot(_rule_rating(rule, "plan", f"Rule: {rule.name}"), rule))
        slots.append(_Slot(Rating(plan.default_rate, PLAN_DEFAULT_SOURCE)))

        n = len(slots)
        self._slots = slots
        self._all = (1 << n) - 1
        self._plan_bits = self._all ^ ((1 << plan_first) - 1)
        self._override_bits = override_bits
        self._overrides_by_customer: dict[str, list[int]] = {}
        for i, ov in enumerate(plan.overrides):
            self._overrides_by_customer.setdefault(ov.customer_number, []).append(i)

        # ratings[bit + 1] is the outcome of ``bit`` (indexed by int.bit_length()).
        self._ratings: list[Rating | None] = [None] + [s.rating for s in slots]

        # Criteria that depend on a single attribute of the line.
        self._sku_rules = [(1 << b, s.sku_re) for b, s in enumerate(slots) if s.sku_re]
        self._name_rules = [(1 << b, s.name_re) for b, s in enumerate(slots) if s.name_re]
        self._customer_rules = [(1 << b, s.customers) for b, s in enumerate(slots) if s.customers]

        # Amount bounds: with mins sorted ascending, the first
        # bisect_right(mins, amount) of them hold; with maxes sorted
        # ascending, the first bisect_left(maxes, amount) of them fail.
        bounded = 0
        mins: list[tuple[Decimal, int]] = []
        maxes: list[tuple[Decimal, int]] = []
        for b, s in enumerate(slots):
            if s.min_amount is not None:
                mins.append((s.min_amount, 1 << b))
            if s.max_amount is not None:
                maxes.append((s.max_amount, 1 << b))
            if s.min_amount is not None or s.max_amount is not None:
                bounded |= 1 << b
        mins.sort(key=lambda t: t[0])
        maxes.sort(key=lambda t: t[0])
        self._bounded = bounded
        self._min_values = [v for v, _ in mins]
        self._max_values = [v for v, _ in maxes]
        # _min_ok[k]: all bits except the min-bounded rules beyond the first k.
        min_bits_all = 0
        for _, bit in mins:
            min_bits_all |= bit
        self._min_ok = []
        acc = self._all ^ min_bits_all
        self._min_ok.append(acc)
        for _, bit in mins:
            acc |= bit
            self._min_ok.append(acc)
        # _max_ok[k]: all bits except the first k max-bounded rules.
        self._max_ok = []
        acc = self._all
        self._max_ok.append(acc)
        for _, bit in maxes:
            acc &= ~bit
            self._max_ok.append(acc)

        # Memo tables, filled lazily.  All stored masks are non-zero (the
        # plan-default bit or bit 0 is always set), so ``get(k) or slow(k)``
        # is a safe miss test.
        self._sku_masks: dict[str, int] = {}
        self._name_masks: dict[str, int] = {}
        self._customer_masks: dict[str, int] = {}  # customers without overrides
        self._customer_date_masks: dict[tuple[str, date], int] = {}  # with overrides
        self._date_masks: dict[date, int] = {}

    # ---- slow paths (first sight of a value) -------------------------------

    def _sku_mask(self, sku: str) -> int:
        folded = sku.casefold()
        mask = self._all
        for bit, rx in self._sku_rules:
            if not rx.fullmatch(folded):
                mask &= ~bit
        self._sku_masks[sku] = mask
        return mask

    def _name_mask(self, name: str) -> int:
        folded = name.casefold()
        mask = self._all
        for bit, rx in self._name_rules:
            if not rx.fullmatch(folded):
                mask &= ~bit
        self._name_masks[name] = mask
        return mask

    def _customer_criteria_mask(self, customer: str) -> int:
        mask = self._all
        for bit, customers in self._customer_rules:
            if customer not in customers:
                mask &= ~bit
        return mask

    def _customer_mask(self, customer: str, day: date) -> int:
        """Mask for ``customer`` (on ``day`` if the customer has overrides)."""
        indexes = self._overrides_by_customer.get(customer)
        if indexes is None:
            mask = self._customer_criteria_mask(customer)
            # Bits of other customers' overrides are off.
            mask &= self._plan_bits | 1
            self._customer_masks[customer] = mask
            return mask
        key = (customer, day)
        mask = self._customer_date_masks.get(key)
        if mask is None:
            allowed = self._plan_bits | 1
            for i in indexes:
                ov = self.plan.overrides[i]
                if in_window(day, ov.effective_start, ov.effective_end):
                    allowed |= self._override_bits[i]
                    break  # only the first effective override applies
            mask = self._customer_criteria_mask(customer) & allowed
            self._customer_date_masks[key] = mask
        return mask

    def _date_mask(self, day: date) -> int:
        if in_window(day, self.plan.effective_start, self.plan.effective_end):
            mask = self._all & ~1
        else:
            mask = 1  # only the "outside the window" outcome is left
        self._date_masks[day] = mask
        return mask

    def _amount_mask(self, amount: Decimal) -> int:
        return (
            self._min_ok[bisect_right(self._min_values, amount)]
            & self._max_ok[bisect_left(self._max_values, amount)]
        )

    # ---- public API ---------------------------------------------------------

    def rate(
        self,
        sku: str,
        product_name: str,
        customer_number: str,
        amount: Decimal,
        line_date: date,
    ) -> Rating | None:
        """The :class:`Rating` of one line, or ``None`` outside the plan window.

        ``amount`` is the invoice line's WHOLE amount A = Quantity x Price,
        whatever the rep's credit or the payment's share of it: ``MinLineAmount``
        and ``MaxLineAmount`` are checked against A (§6: "``MinLineAmount`` <= A;
        A <= ``MaxLineAmount`` (A the invoice line's whole amount, whatever the
        credit or the payment share)").  Pass A here, not the statement line's
        ``LineAmount``.
        """
        m = (
            (self._date_masks.get(line_date) or self._date_mask(line_date))
            & (self._sku_masks.get(sku) or self._sku_mask(sku))
            & (self._name_masks.get(product_name) or self._name_mask(product_name))
            & (
                self._customer_masks.get(customer_number)
                or self._customer_mask(customer_number, line_date)
            )
        )
        low = m & -m
        if low & self._bounded:
            m &= self._amount_mask(amount)
            low = m & -m
        return self._ratings[low.bit_length()]

    # ---- the same decision as tables (rating inside a database) --------------
    #
    # ``rate`` ANDs four masks and takes the lowest bit set; the amount mask only
    # matters when that bit is a bounded rule's, and ANDing it always gives the
    # same lowest bit (it never clears an unbounded rule's bit). So a line's
    # rating is ``slot_ratings[lowest bit of product_mask & day_mask &
    # amount_mask]``: the product and day masks are looked up per distinct value,
    # the amount mask is two bisections into ``amount_bounds``. Bit 0 (outside
    # the plan window) rates None.

    @property
    def slot_count(self) -> int:
        return len(self._slots)

    @property
    def slot_ratings(self) -> list[Rating | None]:
        """The rating of each bit, in bit order (bit 0: None, outside the plan window)."""
        return self._ratings[1:]

    def product_mask(self, sku: str, product_name: str) -> int:
        """The bits a line's SKU and product name leave set."""
        return (self._sku_masks.get(sku) or self._sku_mask(sku)) & (
            self._name_masks.get(product_name) or self._name_mask(product_name))

    def day_mask(self, customer_number: str, line_date: date) -> int:
        """The bits a line's customer and date leave set."""
        return (self._date_masks.get(line_date) or self._date_mask(line_date)) & (
            self._customer_masks.get(customer_number) or self._customer_mask(customer_number, line_date))

    @property
    def amount_bounds(self) -> tuple[list[Decimal], list[int], list[Decimal], list[int]]:
        """(mins ascending, ok masks, maxes ascending, ok masks): a whole amount A leaves set
        ``min_ok[count of mins <= A] & max_ok[count of maxes < A]``."""
        return self._min_values, self._min_ok, self._max_values, self._max_ok

    def rate_rows(self, rows: Iterable[tuple]) -> Iterator[Rating | None]:
        """Rate ``(sku, product_name, customer_number, amount, line_date)`` rows.

        Yields exactly what :meth:`rate` returns for each row, lazily; this is
        :meth:`rate` with the attribute look-ups hoisted out of the loop.
        ``amount`` is, as for :meth:`rate`, the invoice line's WHOLE amount A
        (Min/MaxLineAmount are checked against it), not the credited amount
        or the payment share.
        """
        date_get = self._date_masks.get
        sku_get = self._sku_masks.get
        name_get = self._name_masks.get
        customer_get = self._customer_masks.get
        date_mask = self._date_mask
        sku_mask = self._sku_mask
        name_mask = self._name_mask
        customer_mask = self._customer_mask
        bounded = self._bounded
        ratings = self._ratings
        min_values = self._min_values
        max_values = self._max_values
        min_ok = self._min_ok
        max_ok = self._max_ok
        for sku, name, customer, amount, day in rows:
            m = (
                (date_get(day) or date_mask(day))
                & (sku_get(sku) or sku_mask(sku))
                & (name_get(name) or name_mask(name))
                & (customer_get(customer) or customer_mask(customer, day))
            )
            low = m & -m
            if low & bounded:
                m &= min_ok[bisect_right(min_values, amount)] & max_ok[
                    bisect_left(max_values, amount)
                ]
                low = m & -m
            yield ratings[low.bit_length()]


# ==========================================================================
# Commission arithmetic (docs/commissions.md)
# ==========================================================================
#
# "All of it is computed with ``Decimal``.  *round* means round half-up to
# cents (half away from zero, negative amounts included) and happens only
# where it is written."
#
# Everything below is exact: products of Decimals are computed in a context
# that traps ``Inexact`` (so a product is either exact or an exception, never
# silently rounded), quotients are ``Fraction``s, and the only roundings are
# the ones §6 writes (:func:`round_cents`, :func:`display_multiplier`,
# :func:`attainment`).  None of it depends on the caller's decimal context.
#
# Worked example (Invoice basis, one rep, no accelerators): a 2.50 line at 5%
# has B = 2.50 x 0.05 = 0.125 and commission round(0.125 x 1) = 0.13; its
# clawback (the 1 unit of 2.50 returned) has B = 0.125 and commission -0.13.

MARGINAL = "Marginal"
RETROACTIVE = "Retroactive"

_ONE = Fraction(1)
_ZERO_CENTS = Decimal("0.00")
# Exact arithmetic: a result that would need rounding raises ``Inexact``.
_EXACT = Context(
    prec=1000, rounding=ROUND_HALF_UP, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow]
)
# Rounding where §6 writes *round* (quantize), with room for any money amount.
_ROUND = Context(prec=1000, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow])

Number = Decimal | Fraction | int


def _frac(value: Number) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"expected a Decimal, Fraction or int, got {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"expected a finite number, got {value!r}")
    return Fraction(value)


def _ratio(value: Number) -> tuple[int, int]:
    """``value`` as an exact (numerator, denominator) pair of ints, denominator > 0."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, Fraction, int)):
        raise TypeError(f"expected a Decimal, Fraction or int, got {value!r}")
    try:
        return value.as_integer_ratio()
    except (ValueError, OverflowError):  # NaN / Infinity
        raise ValueError(f"expected a finite number, got {value!r}") from None


def _round_ratio(numerator: int, denominator: int, places: int = 2) -> Decimal:
    """``numerator / denominator`` rounded half away from zero to ``places`` decimals, exactly."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    q, r = divmod(abs(numerator) * 10**places, denominator)
    if 2 * r >= denominator:
        q += 1
    if numerator < 0:
        q = -q
    return Decimal(q).scaleb(-places, context=_ROUND)


def _round_fraction(value: Fraction, places: int) -> Decimal:
    """``value`` rounded half away from zero to ``places`` decimals, exactly."""
    return _round_ratio(value.numerator, value.denominator, places)


def round_cents(value: Number) -> Decimal:
    """*round* of §6: half-up to cents, half away from zero, negatives included.

    §6: "*round* means round half-up to cents (half away from zero, negative
    amounts included)".  ``0.125 -> 0.13``, ``-0.125 -> -0.13``; accepts a
    Decimal, an int or an exact Fraction; the result always has 2 decimals
    (and is never ``-0.00``).
    """
    if isinstance(value, Decimal) and value.is_finite():
        out = value.quantize(CENT, context=_ROUND)
        return out if out else _ZERO_CENTS
    return _round_fraction(_frac(value), 2)


def _times(a: Number, b: Number) -> Decimal | Fraction:
    """``a x b`` exactly (a Decimal when both are Decimals and it fits, else a Fraction)."""
    if isinstance(a, Decimal) and isinstance(b, Decimal) and a.is_finite() and b.is_finite():
        try:
            return _EXACT.multiply(a, b)
        except Inexact:
            pass
    return _frac(a) * _frac(b)


# --------------------------------------------------------------------------
# Credited amounts and payment shares
# --------------------------------------------------------------------------


def credited_amounts(amount: Decimal, shares: Sequence[Number]) -> list[Decimal]:
    """Each rep's credit of an invoice line of amount A, in the order of ``shares``.

    §6 "Credited amounts": "An invoice line has amount A = ``Quantity x
    Price``.  It credits every rep of its order's ``SalesCredits``: with
    shares S1...Sn in the order given, rep k < n is credited round(A x Sk)
    and the last rep A minus the others' credits, so a line's credits add up
    to A."

    ``amount`` is A (pass it exact, e.g. ``Decimal(q) * price``); ``shares``
    are the order's ``Share`` values in the order given (Decimals, or exact
    Fractions).  No shares: no credits (``[]``).  The shares are not checked
    to add up to 1 (the order's validation does that); the last rep gets
    A minus the others whatever they add up to.

    For a clawback (§6 "Clawbacks": "``LineAmount`` -(R's credit of q x P, by
    the shares of L's order as above)") call it with ``amount = q x P`` and
    negate R's entry.
    """
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"amount must be a finite Decimal, got {amount!r}")
    if len(shares) <= 1:
        return [amount] if shares else []
    credits = [round_cents(_times(amount, share)) for share in shares[:-1]]
    rest = amount
    for credit in credits:
        rest = _EXACT.subtract(rest, credit)
    credits.append(rest)
    return credits


def payment_shares(
    credited: Decimal, invoice_total: Decimal, payments: Sequence[Decimal]
) -> list[Decimal]:
    """The ``LineAmount`` each payment of an invoice gives a credited line (Payment basis).

    §6 "Earning", ``Payment``: "Payments count in the order they were
    recorded; after payment k the invoice has received Ck of its total T
    (C0 = 0).  Payment k gives the line a statement line of ``LineAmount``
    round(A_R x Ck / T) - round(A_R x Ck-1 / T) (A_R the rep's credited
    amount) [...]; a share of 0 gives no line.  Once paid, a line's shares
    add up to A_R."

    ``credited`` is A_R, ``invoice_total`` T (> 0), ``payments`` the
    invoice's payment amounts in the order recorded (all of them so far; they
    may not reach T yet).  Returns one share per payment, in that order,
    zeros included (so indexes match the payments; the caller makes no line
    for a 0).  A_R x Ck / T is computed as an exact Fraction and rounded
    once, so the first k shares add up to exactly round(A_R x Ck / T), and to
    A_R once the payments reach T.

    ``ValueError`` when T <= 0, a payment is negative or the payments exceed
    T (an overpayment is refused upstream, so none of these can be recorded).
    """
    for what, value in (("credited", credited), ("invoice_total", invoice_total)):
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"{what} must be a finite Decimal, got {value!r}")
    if invoice_total <= 0:
        raise ValueError(f"invoice_total must be > 0, got {invoice_total}")
    # round(A_R x Ck / T) on exact integer ratios: (a_n Ck_n t_d) / (a_d Ck_d t_n).
    a_n, a_d = _ratio(credited)
    t_n, t_d = _ratio(invoice_total)
    shares: list[Decimal] = []
    received: Decimal | Fraction = Decimal(0)
    before = _ZERO_CENTS  # round(A_R x C0 / T)
    for payment in payments:
        _ratio(payment)  # a finite number
        if payment < 0:
            raise ValueError(f"payment {payment} is negative")
        if isinstance(received, Decimal) and isinstance(payment, Decimal):
            try:
                received = _EXACT.add(received, payment)
            except Inexact:
                received = Fraction(received) + payment
        else:
            received = Fraction(received) + Fraction(payment)
        if received > invoice_total:
            raise ValueError(f"payments exceed the invoice total {invoice_total}")
        c_n, c_d = _ratio(received)
        after = _round_ratio(a_n * c_n * t_d, a_d * c_d * t_n)
        shares.append(_EXACT.subtract(after, before))
        before = after
    return shares


# --------------------------------------------------------------------------
# Accelerators
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AcceleratorSpec:
    """One tier: from an attainment (a fraction of the quota) on, this multiplier.

    §4: "``From`` an attainment (fraction of ``Quota``, >= 0, up to 4
    decimals, strictly increasing), ``Multiplier`` a decimal >= 0 with up to
    4 decimals".
    """

    from_attainment: Decimal
    multiplier: Decimal


@dataclass(frozen=True, slots=True)
class MultiplierSchedule:
    """A plan's quota and accelerators: the ``Multiplier`` of a statement's sales lines.

    §6 "Accelerators": "Without them every line's ``Multiplier`` is 1.  With
    them, a statement's sales total is ``SalesTotal`` = the sum of its sales
    lines' ``LineAmount``s (clawbacks and adjustments do not count), the
    tiers' thresholds are ``Quota x From``, and for a sales total x, m(x) is
    the ``Multiplier`` of the last tier whose threshold <= x (1 below the
    first tier)."

    Validated on construction (``ValueError``): ``quota`` None or a finite
    Decimal > 0 with at most 2 decimals; each ``From`` a finite Decimal >= 0
    with at most 4 decimals, strictly increasing; each ``multiplier`` a
    finite Decimal >= 0 with at most 4 decimals; accelerators without a quota
    are refused ("Accelerators without a ``Quota`` are a 400"); ``method``
    ``"Marginal"`` (the default) or ``"Retroactive"``.  A quota without
    accelerators is fine (it only feeds ``Attainment``): every multiplier is
    then exactly 1, as with no schedule at all.

    Every multiplier is an exact :class:`~fractions.Fraction`; use
    :func:`display_multiplier` to show it, :func:`commission` to apply it and
    :func:`multiplier_to_storage` to keep it.
    """

    quota: Decimal | None = None
    accelerators: Sequence[AcceleratorSpec] = ()
    method: Literal["Marginal", "Retroactive"] = MARGINAL
    # Derived (sorted thresholds, their multipliers, the integral of m up to each).
    _thresholds: tuple[Decimal, ...] = field(default=(), init=False, repr=False, compare=False)
    _multipliers: tuple[Decimal, ...] = field(default=(), init=False, repr=False, compare=False)
    _integrals: tuple[Decimal, ...] = field(default=(), init=False, repr=False, compare=False)
    _fractions: tuple[Fraction, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        accelerators = tuple(self.accelerators)
        object.__setattr__(self, "accelerators", accelerators)
        if self.method not in (MARGINAL, RETROACTIVE):
            raise ValueError(f"method must be {MARGINAL!r} or {RETROACTIVE!r}, got {self.method!r}")
        if self.quota is not None:
            _check_decimal(self.quota, "quota", 2)
            if self.quota == 0:
                raise ValueError("quota must be > 0")
        if accelerators and self.quota is None:
            raise ValueError("accelerators need a quota")
        previous = None
        thresholds, multipliers, integrals = [], [], []
        for i, acc in enumerate(accelerators):
            if not isinstance(acc, AcceleratorSpec):
                raise ValueError(f"accelerator {i} must be an AcceleratorSpec, got {acc!r}")
            _check_decimal(acc.from_attainment, f"accelerator {i}: from_attainment", 4)
            _check_decimal(acc.multiplier, f"accelerator {i}: multiplier", 4)
            if previous is not None and acc.from_attainment <= previous:
                raise ValueError(
                    f"accelerator {i}: from_attainment {acc.from_attainment} does not increase"
                )
            previous = acc.from_attainment
            threshold = _EXACT.multiply(self.quota, acc.from_attainment)
            if not thresholds:
                integral = threshold  # m = 1 on [0, first threshold)
            else:
                width = _EXACT.subtract(threshold, thresholds[-1])
                integral = _EXACT.add(integrals[-1], _EXACT.multiply(multipliers[-1], width))
            thresholds.append(threshold)
            multipliers.append(acc.multiplier)
            integrals.append(integral)
        object.__setattr__(self, "_thresholds", tuple(thresholds))
        object.__setattr__(self, "_multipliers", tuple(multipliers))
        object.__setattr__(self, "_integrals", tuple(integrals))
        # m on each tier as an exact Fraction; index 0 is "below the first tier".
        object.__setattr__(self, "_fractions", (_ONE, *(Fraction(m) for m in multipliers)))

    @property
    def thresholds(self) -> tuple[Decimal, ...]:
        """The tiers' thresholds ``Quota x From``, ascending (exact)."""
        return self._thresholds

    @property
    def tiers(self) -> tuple[tuple[Decimal, Decimal], ...]:
        """(threshold, multiplier) of each tier, ascending (exact); below the first, m = 1."""
        return tuple(zip(self._thresholds, self._multipliers))

    def m(self, x: Decimal) -> Fraction:
        """m(x): "the ``Multiplier`` of the last tier whose threshold <= x (1 below the first tier)"."""
        return self._fractions[bisect_right(self._thresholds, x)]

    def _integral(self, x: Decimal) -> Decimal:
        """The integral of m over [0, x) (for x < 0: minus the one over [x, 0), m = 1 there)."""
        i = bisect_right(self._thresholds, x)
        if i == 0:
            return x
        width = _EXACT.subtract(x, self._thresholds[i - 1])
        return _EXACT.add(self._integrals[i - 1], _EXACT.multiply(self._multipliers[i - 1], width))

    def weighted_sum(self, s0: Decimal, line_amount: Decimal) -> Decimal:
        """Σ piece x multiplier over [s0, s0 + line_amount) (exact; at most 10 decimals).

        §6 ``Marginal``: "the pieces of that span cut at the thresholds, each
        piece's length times its tier's multiplier, summed".  For a rate-paid
        line the commission is round(``Rate`` x this sum).
        """
        s1 = _EXACT.add(s0, line_amount)
        return _EXACT.subtract(self._integral(s1), self._integral(s0))

    def retroactive(self, sales_total: Decimal) -> Fraction:
        """§6 ``Retroactive``: "every sales line's ``Multiplier`` is m(``SalesTotal``)".

        (:meth:`retroactive` and :meth:`marginal` compute their formula
        whatever ``method`` is; :meth:`multipliers` picks by ``method``.)
        """
        return self.m(sales_total)

    def marginal(self, s0: Decimal, line_amount: Decimal) -> Fraction:
        """The ``Marginal`` multiplier of a line covering [s0, s0 + line_amount).

        §6 ``Marginal``: "a line covers the running total from s0 (the sum of
        the lines before it) to s1 = s0 + ``LineAmount``, and its
        ``Multiplier`` is the amount-weighted mean of m over [s0, s1): the
        pieces of that span cut at the thresholds, each piece's length times
        its tier's multiplier, summed and divided by ``LineAmount`` (a line
        of amount 0 takes m(s0))."

        Exact: ``Fraction(weighted_sum(s0, line_amount)) / line_amount``.
        (A negative ``line_amount``, which no sales line has, gives the mean
        over [s0 + line_amount, s0).)
        """
        thresholds = self._thresholds
        if not line_amount:
            return self._fractions[bisect_right(thresholds, s0)]
        if not thresholds:
            return _ONE
        if line_amount > 0:
            i = bisect_right(thresholds, s0)
            # No threshold inside (s0, s1): the whole span is in tier i.
            if i == len(thresholds) or thresholds[i] >= _EXACT.add(s0, line_amount):
                return self._fractions[i]
        return Fraction(self.weighted_sum(s0, line_amount)) / Fraction(line_amount)

    def multipliers(self, line_amounts: Sequence[Decimal]) -> list[Fraction]:
        """The ``Multiplier`` of each sales line of one statement, in the order given.

        Give the statement's sales lines only (§6: "clawbacks and adjustments
        do not count"), in §6's order for ``Marginal``: "the sales lines are
        taken in order of date, then ``InvoiceNumber``, then the line's
        position on the invoice, then payment order" (the order does not
        matter for ``Retroactive``).  Without accelerators every multiplier
        is exactly 1.
        """
        if not self._thresholds:
            return [_ONE] * len(line_amounts)
        if self.method == RETROACTIVE:
            total = Decimal(0)
            for amount in line_amounts:
                total = _EXACT.add(total, amount)
            return [self.retroactive(total)] * len(line_amounts)
        out = []
        s0 = Decimal(0)
        for amount in line_amounts:
            out.append(self.marginal(s0, amount))
            s0 = _EXACT.add(s0, amount)
        return out


def display_multiplier(m: Fraction) -> Decimal:
    """The ``Multiplier`` as shown: half-up to 6 decimals.

    §6 ``Marginal``: "It is shown rounded half-up to 6 decimals; the
    commission uses it exact".  Only for display; never feed it back.
    """
    return _round_ratio(*_ratio(m), 6)


def attainment(sales_total: Decimal, quota: Decimal | None) -> Decimal | None:
    """§4: "``Attainment`` (``SalesTotal / Quota`` rounded half-up to 4 decimals, null without a quota)"."""
    if quota is None:
        return None
    if not quota:
        raise ValueError("quota must be > 0")
    s_n, s_d = _ratio(sales_total)
    q_n, q_d = _ratio(quota)
    return _round_ratio(s_n * q_d, s_d * q_n, 4)


# --------------------------------------------------------------------------
# Base commission, commission, clawbacks
# --------------------------------------------------------------------------


def base_commission(
    rating: Rating,
    *,
    line_amount: Decimal,
    quantity: int | Decimal,
    whole_amount: Decimal,
    share: Decimal | Fraction,
) -> Fraction:
    """B of a sales line, exact.

    §6 "Base commission": "B of a sales line: ``LineAmount x Rate``; for a
    rule paying per unit, ``Quantity x AmountPerUnit x f``, where
    f = ``LineAmount / A`` is the part of the line this statement line
    carries (f = the rep's ``Share`` when A = 0)."

    ``line_amount`` is the statement line's ``LineAmount`` (the rep's credit,
    or the payment's share of it), ``quantity`` the invoice line's
    ``Quantity``, ``whole_amount`` A, ``share`` the rep's ``Share`` of the
    order (only used when A = 0).
    """
    return Fraction(*_base_ratio(rating, line_amount, quantity, whole_amount, share))


def _base_ratio(rating: Rating, line_amount, quantity, whole_amount, share) -> tuple[int, int]:
    """B of :func:`base_commission` as an exact (unreduced) integer ratio."""
    l_n, l_d = _ratio(line_amount)
    if rating.rate is not None:
        r_n, r_d = _ratio(rating.rate)
        return l_n * r_n, l_d * r_d
    if rating.amount_per_unit is None:
        raise ValueError("rating pays neither a rate nor an amount_per_unit")
    q_n, q_d = _ratio(quantity)
    u_n, u_d = _ratio(rating.amount_per_unit)
    w_n, w_d = _ratio(whole_amount)
    if w_n == 0:
        f_n, f_d = _ratio(share)
    else:
        f_n, f_d = l_n * w_d, l_d * w_n
    return q_n * u_n * f_n, q_d * u_d * f_d


def commission(base: Fraction | Decimal, multiplier: Fraction | Decimal = _ONE) -> Decimal:
    """§6 "Commission": "Commission of a sales line = round(B x ``Multiplier``)".

    ``multiplier`` is the exact one (§6: "the commission uses it exact (for a
    rate-paid line: round(``Rate`` x Σ piece x multiplier))" — the same
    number, since B x M = ``LineAmount`` x ``Rate`` x Σ / ``LineAmount``).
    """
    b_n, b_d = _ratio(base)
    m_n, m_d = _ratio(multiplier)
    return _round_ratio(b_n * m_n, b_d * m_d)


def line_commission(
    rating: Rating,
    *,
    line_amount: Decimal,
    quantity: int | Decimal,
    whole_amount: Decimal,
    share: Decimal | Fraction,
    multiplier: Fraction | Decimal = _ONE,
) -> Decimal:
    """``commission(base_commission(rating, ...), multiplier)`` in one call, faster.

    §6: "Commission of a sales line = round(B x ``Multiplier``)", with B as in
    :func:`base_commission` (same arguments).  Exactly equal to the two-step
    form; it only skips building the intermediate Fraction (and, for a
    rate-paid line at multiplier 1, is :func:`commission_for`).
    """
    if rating.rate is not None and (multiplier is _ONE or multiplier == 1):
        if isinstance(line_amount, Decimal) and line_amount.is_finite():
            try:
                paid = _EXACT.multiply(line_amount, rating.rate).quantize(CENT, context=_ROUND)
                return paid if paid else _ZERO_CENTS
            except Inexact:
                pass
    b_n, b_d = _base_ratio(rating, line_amount, quantity, whole_amount, share)
    m_n, m_d = _ratio(multiplier)
    return _round_ratio(b_n * m_n, b_d * m_d)


def clawback_commission(
    rating: Rating,
    *,
    line_amount: Decimal,
    quantity: int | Decimal,
    price: Decimal,
    share: Decimal | Fraction,
    multiplier: Fraction | Decimal,
) -> Decimal:
    """The commission of a clawback line (negative, or 0.00).

    §6 "Clawbacks": "A credit-memo line returning q units of invoice line L
    (price P) is, for R, a line with ``Quantity`` -q and ``LineAmount`` -(R's
    credit of q x P, by the shares of L's order as above).  It is paid at the
    ``Rate`` or ``AmountPerUnit`` and the ``Multiplier`` of the last
    statement line that commissioned L to R [...]; its base B is computed as
    for a sales line from |``LineAmount``|, with A = q x P and ``Quantity``
    q; its commission is -round(B x ``Multiplier``)."

    ``rating`` and ``multiplier`` are those of that last statement line (the
    multiplier exact, see :func:`multiplier_from_storage`); ``line_amount``
    the clawback's ``LineAmount`` and ``quantity`` its ``Quantity`` (either
    sign: their absolute values |``LineAmount``| and q are used); ``price``
    P; ``share`` R's ``Share`` of L's order (f when q x P = 0).
    """
    q = abs(_frac(quantity))
    whole = q * _frac(price)
    paid = line_commission(
        rating,
        line_amount=abs(_frac(line_amount)),
        quantity=q,
        whole_amount=whole,
        share=share,
        multiplier=multiplier,
    )
    return -paid if paid else paid


# --------------------------------------------------------------------------
# Multipliers across time
# --------------------------------------------------------------------------


_DEC_ONE = Decimal(1)


def multiplier_to_storage(m: Fraction | Decimal) -> tuple[Decimal, Decimal]:
    """An exact multiplier as (numerator, denominator) Decimals for two numeric columns.

    §6 ``Marginal``: "the commission uses it exact [...], and so does a
    clawback of that line" — months later, so the exact value is stored, not
    the 6-decimal display.

    The numerator has at most 10 decimals; the denominator is ``1`` when the
    multiplier is itself a decimal with at most 10 decimals (always so for
    ``Retroactive``, a 0-amount line and a line inside one tier), else a
    positive amount with at most 2 decimals.  Lossless for every Fraction
    (``multiplier_from_storage(*multiplier_to_storage(m)) == m``).  For a
    multiplier from :meth:`MultiplierSchedule.marginal`, which is
    (Σ piece x multiplier, at most 10 decimals) / ``LineAmount``, the
    denominator divides ``LineAmount``, so it is at most |``LineAmount``|
    (it fits a money column) and the numerator is at most the largest tier
    multiplier x |``LineAmount``| (e.g. a ``numeric(28, 10)`` column).
    """
    m = _frac(m)
    q = m.denominator
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    if q == 1 and twos <= 10 and fives <= 10:
        # A decimal of exactly max(twos, fives) places (the fewest that hold it).
        return _round_fraction(m, max(twos, fives)), _DEC_ONE
    # den = q' 2^a' 5^b' / 100 with a' = max(0, a - 8), b' = max(0, b - 8): the
    # numerator m x den = p / (2^(a - a' + 2) 5^(b - b' + 2)) has <= 10 decimals.
    den = Fraction(q * 2 ** max(0, twos - 8) * 5 ** max(0, fives - 8), 100)
    num = m * den
    assert (num * 10**10).denominator == 1
    return _plain(_round_fraction(num, 10)), _plain(_round_fraction(den, 2))


def _plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and without an exponent (``1.50 -> 1.5``, ``10.00 -> 10``)."""
    if value == value.to_integral_value(context=_ROUND):
        return value.quantize(Decimal(1), context=_ROUND)
    return value.normalize(_ROUND)


def multiplier_from_storage(numerator: Decimal, denominator: Decimal) -> Fraction:
    """The exact multiplier kept by :func:`multiplier_to_storage` (``numerator / denominator``)."""
    den = _frac(denominator)
    if den == 0:
        raise ValueError("denominator must not be 0")
    return _frac(numerator) / den
