"""Commission rate engine: pure Python (stdlib + Decimal), no Django.

The product contract
====================

A *line* has ``sku``, ``product_name``, ``customer_number`` (all ``str``),
``amount`` (``Decimal``: Quantity x Price with 2 decimals; negative for
clawbacks) and ``date`` (``datetime.date``, the calendar day the line counts on).

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
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Iterable, Iterator

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
    priority: int
    name: str
    rate: Decimal
    sku_patterns: tuple[str, ...] = ()
    product_name_patterns: tuple[str, ...] = ()
    customer_numbers: tuple[str, ...] = ()
    min_line_amount: Decimal | None = None
    max_line_amount: Decimal | None = None


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
    rate: Decimal
    source: str


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


def _sorted_rules(rules: tuple[RuleSpec, ...], owner: str) -> list[RuleSpec]:
    ordered = sorted(rules, key=lambda r: r.priority)
    for prev, cur in zip(ordered, ordered[1:]):
        if prev.priority == cur.priority:
            raise ValueError(
                f"{owner}: rules {prev.name!r} and {cur.name!r} share priority {cur.priority}"
            )
    for rule in ordered:
        _check_rate(rule.rate, f"{owner}, rule {rule.name!r}")
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
                slots.append(_Slot(Rating(rule.rate, f"{prefix}Rule: {rule.name}"), rule))
            if ov.default_rate is not None:
                _check_rate(ov.default_rate, f"{owner} default")
                slots.append(_Slot(Rating(ov.default_rate, f"{prefix}default")))
            override_bits.append(((1 << len(slots)) - 1) ^ ((1 << first) - 1))
        plan_first = len(slots)
        for rule in _sorted_rules(plan.rules, "plan"):
            slots.append(_Slot(Rating(rule.rate, f"Rule: {rule.name}"), rule))
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
        """The :class:`Rating` of one line, or ``None`` outside the plan window."""
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

    def rate_rows(self, rows: Iterable[tuple]) -> Iterator[Rating | None]:
        """Rate ``(sku, product_name, customer_number, amount, line_date)`` rows.

        Yields exactly what :meth:`rate` returns for each row, lazily; this is
        :meth:`rate` with the attribute look-ups hoisted out of the loop.
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
