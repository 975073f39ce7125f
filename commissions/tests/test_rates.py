"""Tests for the pure commission rate engine (no Django, no database)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal, localcontext

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commissions.engine import (
    CompiledPlan,
    OverrideSpec,
    PlanSpec,
    Rating,
    RuleSpec,
    commission_for,
    compile_plan,
    glob_to_regex,
)

D = Decimal
DAY = date(2024, 3, 15)


def rule(priority, name=None, rate="0.10", **criteria):
    criteria = {
        k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in criteria.items()
    }
    for key in ("min_line_amount", "max_line_amount"):
        if isinstance(criteria.get(key), str):
            criteria[key] = D(criteria[key])
    return RuleSpec(priority=priority, name=name or f"R{priority}", rate=D(rate), **criteria)


def plan(rules=(), overrides=(), default="0.05", start=None, end=None):
    return PlanSpec(
        default_rate=D(default),
        effective_start=start,
        effective_end=end,
        rules=tuple(rules),
        overrides=tuple(overrides),
    )


def rate(p, sku="SKU-1", name="Widget", cust="C1", amount="10.00", day=DAY):
    """Rate through both entry points and check they agree."""
    compiled = compile_plan(p)
    line = (sku, name, cust, D(amount), day)
    single = compiled.rate(*line)
    (batched,) = list(compile_plan(p).rate_rows([line]))
    assert single == batched
    return single


def source(p, **line):
    result = rate(p, **line)
    return None if result is None else result.source


PLAN_DEFAULT = Rating(D("0.05"), "Plan default")


# ---------------------------------------------------------------------------
# Worked example from the module docstring
# ---------------------------------------------------------------------------


def test_docstring_worked_example():
    p = PlanSpec(
        default_rate=D("0.05"),
        rules=(
            RuleSpec(priority=20, name="Big orders", rate=D("0.03"), min_line_amount=D("1000.00")),
            RuleSpec(priority=10, name="Widgets", rate=D("0.10"), sku_patterns=("WID-*",)),
        ),
        overrides=(OverrideSpec(customer_number="C42", default_rate=D("0.02")),),
    )
    compiled = compile_plan(p)
    lines = [
        ("wid-7", "Widget", "C1", D("1500.00"), DAY),
        ("GAD-1", "Gadget", "C1", D("1000.00"), DAY),
        ("WID-7", "Widget", "C42", D("-12.25"), DAY),
        ("GAD-1", "Gadget", "C7", D("999.99"), DAY),
    ]
    expected = [
        (Rating(D("0.10"), "Rule: Widgets"), D("150.00")),
        (Rating(D("0.03"), "Rule: Big orders"), D("30.00")),
        (Rating(D("0.02"), "Override C42: default"), D("-0.25")),
        (Rating(D("0.05"), "Plan default"), D("50.00")),
    ]
    got = [(r, commission_for(line[3], r.rate)) for line, r in zip(lines, compiled.rate_rows(lines))]
    assert got == expected
    assert [compiled.rate(*line) for line in lines] == [r for r, _ in expected]


# ---------------------------------------------------------------------------
# Precedence
# ---------------------------------------------------------------------------


def test_plan_default_when_nothing_matches():
    p = plan([rule(1, sku_patterns=["NOPE"])])
    assert rate(p) == PLAN_DEFAULT


def test_plan_without_rules_or_overrides():
    assert rate(plan()) == PLAN_DEFAULT


def test_first_matching_plan_rule_by_priority():
    p = plan([rule(1, rate="0.01", sku_patterns=["X*"]), rule(2, rate="0.02"), rule(3, rate="0.03")])
    assert rate(p) == Rating(D("0.02"), "Rule: R2")
    assert rate(p, sku="X1") == Rating(D("0.01"), "Rule: R1")


def test_priorities_given_out_of_order():
    p = plan([rule(30, rate="0.03"), rule(-2, rate="0.02", sku_patterns=["A"]), rule(10, rate="0.01")])
    assert rate(p) == Rating(D("0.01"), "Rule: R10")
    assert rate(p, sku="a") == Rating(D("0.02"), "Rule: R-2")


def test_override_rule_beats_plan_rule():
    p = plan(
        [rule(1, rate="0.01")],
        [OverrideSpec("C1", default_rate=D("0.09"), rules=(rule(5, "VIP", rate="0.2", sku_patterns=["SKU-*"]),))],
    )
    assert rate(p) == Rating(D("0.2"), "Override C1: Rule: VIP")
    assert rate(p, sku="OTHER") == Rating(D("0.09"), "Override C1: default")
    assert rate(p, cust="C2") == Rating(D("0.01"), "Rule: R1")


def test_override_rules_in_priority_order():
    ov = OverrideSpec("C1", rules=(rule(9, "late", rate="0.3"), rule(3, "early", rate="0.4", min_line_amount="5.00")))
    p = plan(overrides=[ov])
    assert rate(p) == Rating(D("0.4"), "Override C1: Rule: early")
    assert rate(p, amount="4.99") == Rating(D("0.3"), "Override C1: Rule: late")


def test_override_default_beats_plan_rules():
    p = plan([rule(1, rate="0.01")], [OverrideSpec("C1", default_rate=D("0"))])
    assert rate(p) == Rating(D("0"), "Override C1: default")


def test_override_without_default_falls_through_to_plan_rules():
    ov = OverrideSpec("C1", rules=(rule(1, "only big", rate="0.5", min_line_amount="1000.00"),))
    p = plan([rule(7, "plan rule", rate="0.07", sku_patterns=["SKU-*"])], [ov])
    assert rate(p, amount="1000.00") == Rating(D("0.5"), "Override C1: Rule: only big")
    assert rate(p) == Rating(D("0.07"), "Rule: plan rule")
    assert rate(p, sku="OTHER") == PLAN_DEFAULT


def test_override_without_rules_and_default_is_a_no_op():
    p = plan([rule(1, sku_patterns=["SKU-*"])], [OverrideSpec("C1")])
    assert rate(p) == Rating(D("0.10"), "Rule: R1")
    assert rate(p, sku="X") == PLAN_DEFAULT


def test_override_customer_match_is_exact():
    p = plan(overrides=[OverrideSpec("C1", default_rate=D("0.5"))])
    assert source(p, cust="C1") == "Override C1: default"
    for other in ("c1", "C10", " C1", "C"):
        assert rate(p, cust=other) == PLAN_DEFAULT


def test_override_rule_customer_numbers_criterion_is_checked():
    ov = OverrideSpec("C1", rules=(rule(1, "for C2 only", customer_numbers=["C2"]),))
    p = plan(overrides=[ov])
    assert rate(p) == PLAN_DEFAULT


# ---------------------------------------------------------------------------
# Effective windows
# ---------------------------------------------------------------------------


def test_plan_window_both_ends_inclusive():
    p = plan(start=date(2024, 3, 1), end=date(2024, 3, 31))
    assert rate(p, day=date(2024, 2, 29)) is None
    assert rate(p, day=date(2024, 3, 1)) == PLAN_DEFAULT
    assert rate(p, day=date(2024, 3, 31)) == PLAN_DEFAULT
    assert rate(p, day=date(2024, 4, 1)) is None


def test_plan_window_outside_even_with_override():
    p = plan(
        [rule(1)],
        [OverrideSpec("C1", default_rate=D("0.5"))],
        start=date(2024, 3, 1),
        end=date(2024, 3, 31),
    )
    assert rate(p, day=date(2024, 4, 1)) is None
    assert rate(p, day=date(2024, 2, 29)) is None


def test_plan_open_windows():
    assert rate(plan(start=date(2024, 3, 1)), day=date(2100, 1, 1)) == PLAN_DEFAULT
    assert rate(plan(start=date(2024, 3, 1)), day=date(2024, 2, 29)) is None
    assert rate(plan(end=date(2024, 3, 1)), day=date(1990, 1, 1)) == PLAN_DEFAULT
    assert rate(plan(end=date(2024, 3, 1)), day=date(2024, 3, 2)) is None


def test_override_window_both_ends_inclusive():
    ov = OverrideSpec("C1", default_rate=D("0.5"), effective_start=date(2024, 3, 10), effective_end=date(2024, 3, 20))
    p = plan([rule(1, sku_patterns=["SKU-*"])], [ov])
    over = Rating(D("0.5"), "Override C1: default")
    assert rate(p, day=date(2024, 3, 9)) == Rating(D("0.10"), "Rule: R1")
    assert rate(p, day=date(2024, 3, 10)) == over
    assert rate(p, day=date(2024, 3, 20)) == over
    assert rate(p, day=date(2024, 3, 21)) == Rating(D("0.10"), "Rule: R1")


def test_override_not_yet_effective_is_ignored_entirely():
    ov = OverrideSpec(
        "C1", default_rate=D("0.5"), effective_start=date(2024, 4, 1), rules=(rule(1, "vip", rate="0.9"),)
    )
    p = plan(overrides=[ov])
    assert rate(p, day=date(2024, 3, 31)) == PLAN_DEFAULT
    assert rate(p, day=date(2024, 4, 1)) == Rating(D("0.9"), "Override C1: Rule: vip")


def test_override_open_end():
    ov = OverrideSpec("C1", default_rate=D("0.5"), effective_end=date(2024, 3, 1))
    p = plan(overrides=[ov])
    assert source(p, day=date(2000, 1, 1)) == "Override C1: default"
    assert rate(p, day=date(2024, 3, 2)) == PLAN_DEFAULT


def test_several_overrides_for_one_customer_first_effective_applies():
    march = OverrideSpec("C1", default_rate=D("0.3"), effective_start=date(2024, 3, 1), effective_end=date(2024, 3, 31))
    april = OverrideSpec("C1", default_rate=D("0.4"), effective_start=date(2024, 4, 1))
    p = plan(overrides=[april, march])
    assert rate(p, day=date(2024, 2, 29)) == PLAN_DEFAULT
    assert rate(p, day=date(2024, 3, 31)) == Rating(D("0.3"), "Override C1: default")
    assert rate(p, day=date(2024, 4, 1)) == Rating(D("0.4"), "Override C1: default")
    # Overlapping windows: the first in the given order wins.
    always = OverrideSpec("C1", default_rate=D("0.7"))
    assert rate(plan(overrides=[march, always]), day=date(2024, 3, 5)).rate == D("0.3")
    assert rate(plan(overrides=[always, march]), day=date(2024, 3, 5)).rate == D("0.7")


def test_first_effective_override_without_default_falls_to_plan_not_to_next_override():
    first = OverrideSpec("C1", rules=(rule(1, "big", min_line_amount="1000.00"),))
    second = OverrideSpec("C1", default_rate=D("0.9"))
    p = plan([rule(4, "plan", rate="0.04", sku_patterns=["SKU-*"])], [first, second])
    assert rate(p) == Rating(D("0.04"), "Rule: plan")
    assert rate(p, sku="X") == PLAN_DEFAULT


def test_same_customer_different_days_use_their_own_override():
    march = OverrideSpec("C1", default_rate=D("0.3"), effective_end=date(2024, 3, 31))
    compiled = compile_plan(plan(overrides=[march]))
    rows = [("S", "N", "C1", D("1.00"), d) for d in (date(2024, 3, 31), date(2024, 4, 1), date(2024, 3, 31))]
    assert [r.source for r in compiled.rate_rows(rows)] == [
        "Override C1: default",
        "Plan default",
        "Override C1: default",
    ]


# ---------------------------------------------------------------------------
# Criteria
# ---------------------------------------------------------------------------


def test_rule_without_criteria_matches_everything():
    p = plan([rule(1, "all", rate="0.2")])
    for line in (
        dict(sku="", name="", cust="", amount="-99999.99"),
        dict(sku="x", name="y", cust="z", amount="0.00"),
        dict(amount="123456789.01"),
    ):
        assert rate(p, **line) == Rating(D("0.2"), "Rule: all")


def test_amount_bounds_inclusive():
    p = plan([rule(1, min_line_amount="100.00", max_line_amount="200.00")])
    assert source(p, amount="99.99") == "Plan default"
    assert source(p, amount="100.00") == "Rule: R1"
    assert source(p, amount="150.00") == "Rule: R1"
    assert source(p, amount="200.00") == "Rule: R1"
    assert source(p, amount="200.01") == "Plan default"


def test_amount_bounds_compare_numerically():
    p = plan([rule(1, min_line_amount=D("100"), max_line_amount=D("100.000"))])
    assert source(p, amount="100.00") == "Rule: R1"


def test_min_only_and_max_only():
    p = plan([rule(1, "clawback", max_line_amount="-0.01"), rule(2, "big", min_line_amount="500.00")])
    assert source(p, amount="-0.01") == "Rule: clawback"
    assert source(p, amount="-1000.00") == "Rule: clawback"
    assert source(p, amount="0.00") == "Plan default"
    assert source(p, amount="499.99") == "Plan default"
    assert source(p, amount="500.00") == "Rule: big"


def test_min_above_max_matches_nothing():
    p = plan([rule(1, min_line_amount="10.00", max_line_amount="5.00")])
    for amount in ("4.00", "5.00", "7.00", "10.00", "11.00"):
        assert rate(p, amount=amount) == PLAN_DEFAULT


def test_bounded_rule_skipped_then_next_rule():
    p = plan(
        [
            rule(1, "tiny", max_line_amount="1.00"),
            rule(2, "mid", min_line_amount="5.00", max_line_amount="10.00"),
            rule(3, "fallback", sku_patterns=["SKU-*"]),
        ]
    )
    assert source(p, amount="1.00") == "Rule: tiny"
    assert source(p, amount="1.01") == "Rule: fallback"
    assert source(p, amount="10.00") == "Rule: mid"
    assert source(p, amount="10.01") == "Rule: fallback"
    assert source(p, sku="X", amount="10.01") == "Plan default"


def test_customer_numbers_exact():
    p = plan([rule(1, customer_numbers=["C1", "C3"])])
    assert source(p, cust="C1") == "Rule: R1"
    assert source(p, cust="C3") == "Rule: R1"
    for other in ("c1", "C2", "C10", "C1 "):
        assert source(p, cust=other) == "Plan default"


def test_all_criteria_must_hold():
    p = plan(
        [
            rule(
                1,
                sku_patterns=["A*"],
                product_name_patterns=["*pro"],
                customer_numbers=["C1"],
                min_line_amount="1.00",
                max_line_amount="2.00",
            )
        ]
    )
    good = dict(sku="A1", name="Widget Pro", cust="C1", amount="1.50")
    assert source(p, **good) == "Rule: R1"
    for bad in (dict(sku="B1"), dict(name="Pro Widget"), dict(cust="C2"), dict(amount="0.99"), dict(amount="2.01")):
        assert source(p, **{**good, **bad}) == "Plan default"


def test_any_pattern_in_list_matches():
    p = plan([rule(1, sku_patterns=["A*", "*Z"], product_name_patterns=["foo", "bar"])])
    assert source(p, sku="AQ", name="bar") == "Rule: R1"
    assert source(p, sku="QZ", name="foo") == "Rule: R1"
    assert source(p, sku="QQ", name="foo") == "Plan default"
    assert source(p, sku="AZ", name="baz") == "Plan default"


# ---------------------------------------------------------------------------
# Glob patterns
# ---------------------------------------------------------------------------


def sku_matches(pattern, sku):
    return source(plan([rule(1, sku_patterns=[pattern])]), sku=sku) == "Rule: R1"


def name_matches(pattern, name):
    return source(plan([rule(1, product_name_patterns=[pattern])]), name=name) == "Rule: R1"


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("A[1]", "A[1]", True),
        ("A[1]", "A1", False),  # fnmatch would say True
        ("A[!1]", "A2", False),
        ("A[!1]", "A[!1]", True),
        ("50%", "50%", True),
        ("50%", "500", False),
        ("50%", "50", False),
        ("a.b", "a.b", True),
        ("a.b", "axb", False),
        ("x+y", "x+y", True),
        ("x+y", "xxy", False),
        ("^$", "^$", True),
        ("^$", "", False),
        ("a\\b", "a\\b", True),
        ("a\\b", "ab", False),
        ("(a|b)", "(a|b)", True),
        ("(a|b)", "a", False),
        ("{1,2}", "{1,2}", True),
        ("A?", "AB", True),
        ("A?", "A", False),
        ("A?", "ABC", False),
        ("??", "ab", True),
        ("??", "abc", False),
        ("A?C", "A.C", True),
        ("AB*", "AB", True),  # * matches the empty run
        ("AB*", "ABCDEF", True),
        ("*", "", True),
        ("*", "anything at all", True),
        ("**", "", True),
        ("*B*", "B", True),
        ("A*B*C", "AxxByyC", True),
        ("A*B*C", "AxxByyCz", False),
        ("", "", True),
        ("", "A", False),
        ("ABC", "ABCD", False),  # whole value
        ("ABC", "XABC", False),
        ("ABC", "ABC", True),
        ("abc", "ABC", True),  # case-insensitive
        ("ABC", "abc", True),
        ("wid-*", "WID-007", True),
        ("*", "line\nbreak", True),
        ("a?b", "a\nb", True),
    ],
)
def test_glob_semantics(pattern, value, expected):
    assert sku_matches(pattern, value) is expected
    assert name_matches(pattern, value) is expected
    assert (glob_to_regex(pattern).fullmatch(value.casefold()) is not None) is expected


def test_case_insensitivity_uses_casefold():
    # casefold (not lower): "ß" folds to "ss" on both sides.
    assert name_matches("STRASSE", "Straße")
    assert name_matches("straße", "STRASSE")
    assert name_matches("Straße*", "strasse 12")
    assert sku_matches("ÉCLAIR", "éclair")


def test_star_is_not_catastrophic_on_long_values():
    assert not sku_matches("*a*a*a*a*a*a*a*a*b", "a" * 200)
    assert sku_matches("*a*a*a*a*a*a*a*a*b", "a" * 200 + "b")


# ---------------------------------------------------------------------------
# Rounding
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rate_", "expected"),
    [
        ("1.25", "0.1", "0.13"),  # 0.125 -> 0.13
        ("-1.25", "0.1", "-0.13"),  # -0.125 -> -0.13 (away from zero)
        ("10.00", "0.0333", "0.33"),  # 0.333 -> 0.33
        ("-10.00", "0.0333", "-0.33"),
        ("0.05", "0.1", "0.01"),  # 0.005 -> 0.01
        ("0.04", "0.1", "0.00"),  # 0.004 -> 0.00
        ("-0.05", "0.1", "-0.01"),
        ("1234.56", "0", "0.00"),
        ("1234.56", "1", "1234.56"),
        ("99.99", "0.0750", "7.50"),  # 7.49925
        ("0.00", "0.5", "0.00"),
    ],
)
def test_commission_rounding(amount, rate_, expected):
    result = commission_for(D(amount), D(rate_))
    assert result == D(expected)
    assert result.as_tuple().exponent == -2


def test_commission_ignores_caller_decimal_context():
    with localcontext() as ctx:
        ctx.rounding = ROUND_DOWN
        ctx.prec = 3
        assert commission_for(D("1.25"), D("0.1")) == D("0.13")
        assert commission_for(D("123456.78"), D("0.1234")) == D("15234.57")


# ---------------------------------------------------------------------------
# Validation and API details
# ---------------------------------------------------------------------------


def test_duplicate_priority_rejected():
    with pytest.raises(ValueError, match="priority"):
        compile_plan(plan([rule(1, "a"), rule(1, "b")]))
    with pytest.raises(ValueError, match="priority"):
        compile_plan(plan(overrides=[OverrideSpec("C1", rules=(rule(2, "a"), rule(2, "b")))]))


def test_same_priority_in_plan_and_override_is_fine():
    p = plan([rule(1, "plan")], [OverrideSpec("C1", rules=(rule(1, "ov", sku_patterns=["X"]),))])
    assert source(p) == "Rule: plan"


@pytest.mark.parametrize("bad", ["1.0001", "-0.0001", "0.00001", "NaN", "Infinity"])
def test_bad_rates_rejected(bad):
    with pytest.raises(ValueError):
        compile_plan(plan(default=bad))
    with pytest.raises(ValueError):
        compile_plan(plan([rule(1, rate=bad)]))
    with pytest.raises(ValueError):
        compile_plan(plan(overrides=[OverrideSpec("C1", default_rate=D(bad))]))


def test_rate_bounds_accepted():
    assert rate(plan(default="1")).rate == D("1")
    assert rate(plan(default="0.0000")).rate == 0
    assert rate(plan(default="0.1234")).rate == D("0.1234")


def test_compile_plan_returns_compiled_plan_and_rate_rows_is_lazy():
    compiled = compile_plan(plan())
    assert isinstance(compiled, CompiledPlan)
    rows = compiled.rate_rows(iter([("S", "N", "C", D("1.00"), DAY)]))
    assert next(rows) == PLAN_DEFAULT
    assert list(rows) == []


def test_ratings_are_shared_objects():
    compiled = compile_plan(plan([rule(1, sku_patterns=["A"])]))
    a = compiled.rate("A", "n", "c", D("1.00"), DAY)
    b = compiled.rate("a", "m", "d", D("2.00"), DAY + timedelta(days=1))
    assert a is b


# ---------------------------------------------------------------------------
# Reference implementation (deliberately naive) and property tests
# ---------------------------------------------------------------------------


def ref_glob(pattern: str, value: str) -> bool:
    """Hand-written whole-value glob match on casefolded text (no regex)."""
    p, v = pattern.casefold(), value.casefold()
    # reachable[j]: the pattern prefix processed so far can match v[:j].
    reachable = [True] + [False] * len(v)
    for ch in p:
        if ch == "*":
            seen = False
            for j in range(len(v) + 1):
                seen = seen or reachable[j]
                reachable[j] = seen
        elif ch == "?":
            reachable = [False] + reachable[:-1]
        else:
            reachable = [False] + [reachable[j] and v[j] == ch for j in range(len(v))]
    return reachable[len(v)]


def ref_in_window(day, start, end):
    if start is not None and day < start:
        return False
    if end is not None and day > end:
        return False
    return True


def ref_rule_matches(r: RuleSpec, sku, name, cust, amount) -> bool:
    if r.sku_patterns and not any(ref_glob(p, sku) for p in r.sku_patterns):
        return False
    if r.product_name_patterns and not any(ref_glob(p, name) for p in r.product_name_patterns):
        return False
    if r.customer_numbers and cust not in r.customer_numbers:
        return False
    if r.min_line_amount is not None and amount < r.min_line_amount:
        return False
    if r.max_line_amount is not None and amount > r.max_line_amount:
        return False
    return True


def ref_rate(p: PlanSpec, sku, name, cust, amount, day):
    if not ref_in_window(day, p.effective_start, p.effective_end):
        return None
    for ov in p.overrides:
        if ov.customer_number != cust or not ref_in_window(day, ov.effective_start, ov.effective_end):
            continue
        for r in sorted(ov.rules, key=lambda r: r.priority):
            if ref_rule_matches(r, sku, name, cust, amount):
                return Rating(r.rate, f"Override {cust}: Rule: {r.name}")
        if ov.default_rate is not None:
            return Rating(ov.default_rate, f"Override {cust}: default")
        break
    for r in sorted(p.rules, key=lambda r: r.priority):
        if ref_rule_matches(r, sku, name, cust, amount):
            return Rating(r.rate, f"Rule: {r.name}")
    return Rating(p.default_rate, "Plan default")


def test_reference_glob_agrees_with_examples():
    assert ref_glob("A[1]", "a[1]") and not ref_glob("A[1]", "A1")
    assert ref_glob("*", "") and ref_glob("A?C", "abc") and not ref_glob("A?C", "AC")
    assert ref_glob("a*b*", "ab") and not ref_glob("ab", "abx")


BASE_DAY = date(2024, 1, 1)
CUSTOMERS = ["C1", "C2", "C3", "c1", "C10"]

amounts = st.integers(-500, 500).map(lambda cents: D(cents).scaleb(-2))
rates = st.integers(0, 10_000).map(lambda n: D(n).scaleb(-4))
days = st.integers(0, 9).map(lambda n: BASE_DAY + timedelta(days=n))
optional_days = st.none() | days
sku_patterns = st.lists(st.text("AaB?*[]%", max_size=4), max_size=2)
name_patterns = st.lists(st.text("xX.+?*\\", max_size=4), max_size=2)
customer_lists = st.lists(st.sampled_from(CUSTOMERS), max_size=2, unique=True)
lines = st.tuples(
    st.text("AaBb[]%?*", max_size=4),
    st.text("xX.+?*\\y", max_size=4),
    st.sampled_from(CUSTOMERS + ["C4"]),
    amounts,
    days,
)


@st.composite
def rule_lists(draw, max_size=5):
    priorities = draw(st.lists(st.integers(-10, 40), unique=True, max_size=max_size))
    return tuple(
        RuleSpec(
            priority=prio,
            name=draw(st.sampled_from(["a", "b", "c d", f"r{prio}"])),
            rate=draw(rates),
            sku_patterns=tuple(draw(sku_patterns)),
            product_name_patterns=tuple(draw(name_patterns)),
            customer_numbers=tuple(draw(customer_lists)),
            min_line_amount=draw(st.none() | amounts),
            max_line_amount=draw(st.none() | amounts),
        )
        for prio in priorities
    )


overrides = st.builds(
    OverrideSpec,
    customer_number=st.sampled_from(CUSTOMERS),
    default_rate=st.none() | rates,
    effective_start=optional_days,
    effective_end=optional_days,
    rules=rule_lists(max_size=3),
)

plans = st.builds(
    PlanSpec,
    default_rate=rates,
    effective_start=st.none() | days,
    effective_end=st.none() | days,
    rules=rule_lists(),
    overrides=st.lists(overrides, max_size=4).map(tuple),
)

PROPERTY_SETTINGS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# The invariants are also covered by the reference comparison; fewer examples.
INVARIANT_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=120)


@PROPERTY_SETTINGS
@given(plans, st.lists(lines, min_size=1, max_size=15))
def test_compiled_plan_agrees_with_reference(p, line_list):
    expected = [ref_rate(p, *line) for line in line_list]
    compiled = compile_plan(p)
    # Twice over the same lines so the warm caches are exercised too.
    assert list(compiled.rate_rows(line_list * 2)) == expected * 2
    assert [compiled.rate(*line) for line in line_list] == expected
    assert [compile_plan(p).rate(*line) for line in line_list] == expected


def rate_by_tables(compiled, sku, name, customer, amount, day):
    """A line rated the way the database does it (commissions.statements.generation): the first bit
    set in product mask & day mask & amount mask (counts of bounds as width_bucket gives them)."""
    mins, min_ok, maxes, max_ok = compiled.amount_bounds
    mask = compiled.product_mask(sku, name) & compiled.day_mask(customer, day)
    mask &= min_ok[sum(1 for v in mins if v <= amount)] & max_ok[sum(1 for v in maxes if v < amount)]
    first = format(mask, f"0{compiled.slot_count}b")[::-1].index("1")
    return compiled.slot_ratings[first]


@PROPERTY_SETTINGS
@given(plans, st.lists(lines, min_size=1, max_size=15))
def test_the_plan_as_tables_rates_as_the_reference(p, line_list):
    compiled = compile_plan(p)
    assert [rate_by_tables(compiled, *line) for line in line_list] == [ref_rate(p, *line) for line in line_list]


@PROPERTY_SETTINGS
@given(st.text("AaB?*[]%\\.", max_size=5), st.text("AaB?*[]%\\.", max_size=6))
def test_glob_regex_agrees_with_reference_glob(pattern, value):
    assert (glob_to_regex(pattern).fullmatch(value.casefold()) is not None) == ref_glob(pattern, value)


@INVARIANT_SETTINGS
@given(plans, rule_lists(max_size=1), st.lists(lines, min_size=1, max_size=10))
def test_adding_a_lower_precedence_rule_keeps_rule_matches(p, extra, line_list):
    top = max((r.priority for r in p.rules), default=0)
    added = tuple(
        RuleSpec(**{**{f: getattr(r, f) for f in RuleSpec.__slots__}, "priority": top + 1 + abs(r.priority)})
        for r in extra
    )
    bigger = PlanSpec(
        default_rate=p.default_rate,
        effective_start=p.effective_start,
        effective_end=p.effective_end,
        rules=p.rules + added,
        overrides=p.overrides,
    )
    before = list(compile_plan(p).rate_rows(line_list))
    after = list(compile_plan(bigger).rate_rows(line_list))
    for old, new in zip(before, after):
        if old is None or old.source != "Plan default":
            assert new == old


@INVARIANT_SETTINGS
@given(plans, lines)
def test_line_matching_no_rule_and_no_override_gets_plan_default(p, line):
    sku, name, cust, amount, day = line
    if not ref_in_window(day, p.effective_start, p.effective_end):
        assert compile_plan(p).rate(*line) is None
        return
    has_override = any(
        ov.customer_number == cust and ref_in_window(day, ov.effective_start, ov.effective_end)
        for ov in p.overrides
    )
    if has_override or any(ref_rule_matches(r, sku, name, cust, amount) for r in p.rules):
        return
    assert compile_plan(p).rate(*line) == Rating(p.default_rate, "Plan default")


@INVARIANT_SETTINGS
@given(plans, st.lists(lines, min_size=1, max_size=10))
def test_plan_default_when_customer_has_no_override_and_rules_cannot_match(p, line_list):
    # Rules that require a customer nobody has can never match.
    unmatched = tuple(
        RuleSpec(**{**{f: getattr(r, f) for f in RuleSpec.__slots__}, "customer_numbers": ("nobody",)})
        for r in p.rules
    )
    p2 = PlanSpec(default_rate=p.default_rate, rules=unmatched, overrides=p.overrides)
    override_customers = {ov.customer_number for ov in p.overrides}
    compiled = compile_plan(p2)
    for line, got in zip(line_list, compiled.rate_rows(line_list)):
        if line[2] not in override_customers:
            assert got == Rating(p.default_rate, "Plan default")
