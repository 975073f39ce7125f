"""The commission rules (docs/commissions.md), sentence by sentence, as far as the pure engine computes them.

Each test names the sentence it checks; the numbers are worked out by hand in the test.
(The rate look-up itself — overrides, rules, patterns, windows — is in test_rates.py.)
No database, no Django.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal, localcontext
from fractions import Fraction

import pytest

from commissions.engine import (
    AcceleratorSpec,
    MultiplierSchedule,
    OverrideSpec,
    PlanSpec,
    Rating,
    RuleSpec,
    attainment,
    base_commission,
    clawback_commission,
    commission,
    compile_plan,
    credited_amounts,
    display_multiplier,
    line_commission,
    multiplier_from_storage,
    multiplier_to_storage,
    payment_shares,
    round_cents,
)

D = Decimal
F = Fraction
DAY = date(2024, 3, 15)
THIRDS = [D("0.3333"), D("0.3333"), D("0.3334")]


def rating(rate=None, apu=None, source="Plan default"):
    return Rating(None if rate is None else D(rate), source, None if apu is None else D(apu))


def schedule(quota, *tiers, method="Marginal"):
    return MultiplierSchedule(
        D(quota), [AcceleratorSpec(D(f), D(m)) for f, m in tiers], method
    )


def is_cents(value: Decimal) -> bool:
    return isinstance(value, Decimal) and value.as_tuple().exponent == -2


# ---------------------------------------------------------------------------
# "All of it is computed with Decimal. *round* means round half-up to cents (half away
# from zero, negative amounts included) and happens only where it is written."
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (D("0.125"), D("0.13")),
        (D("-0.125"), D("-0.13")),
        (D("0.124999"), D("0.12")),
        (D("-0.124999"), D("-0.12")),
        (D("2.005"), D("2.01")),
        (D("-0.004"), D("0.00")),
        (F(1, 8), D("0.13")),
        (F(-1, 8), D("-0.13")),
        (F(1, 3), D("0.33")),
        (F(-2, 3), D("-0.67")),
        (0, D("0.00")),
    ],
)
def test_round_is_half_up_to_cents_away_from_zero(value, expected):
    got = round_cents(value)
    assert got == expected and is_cents(got)
    assert str(got) != "-0.00"


def test_nothing_depends_on_the_callers_decimal_context():
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = ROUND_DOWN
        assert credited_amounts(D("123456.78"), THIRDS) == [D("41148.14"), D("41148.14"), D("41160.50")]
        assert payment_shares(D("123456.78"), D("123456.78"), [D("61728.39")] * 2) == [
            D("61728.39"),
            D("61728.39"),
        ]
        assert round_cents(D("0.125")) == D("0.13")
        assert commission(F(12345678901, 1000)) == D("12345678.90")
        assert display_multiplier(F(2, 3)) == D("0.666667")


def test_round_happens_only_where_written_base_is_exact():
    # B = 2.50 x 0.05 = 0.125 is kept exact; only the commission rounds it.
    b = base_commission(rating("0.05"), line_amount=D("2.50"), quantity=1, whole_amount=D("2.50"), share=D(1))
    assert b == F(1, 8)
    # Rounding B first and then multiplying by 1.5 would give 0.13 x 1.5 = 0.195 -> 0.20;
    # round(0.125 x 1.5) = round(0.1875) = 0.19.
    assert commission(b, F(3, 2)) == D("0.19")


# ---------------------------------------------------------------------------
# Credited amounts. "An invoice line has amount A = Quantity x Price. It credits every rep
# of its order's SalesCredits: with shares S1...Sn in the order given, rep k < n is
# credited round(A x Sk) and the last rep A minus the others' credits, so a line's credits
# add up to A."
# ---------------------------------------------------------------------------


def test_credits_in_thirds_the_last_rep_takes_the_remainder():
    assert credited_amounts(D("100.00"), THIRDS) == [D("33.33"), D("33.33"), D("33.34")]
    # Shares given as exact thirds give the same answer (100/3 = 33.333... -> 33.33).
    assert credited_amounts(D("100.00"), [F(1, 3)] * 3) == [D("33.33"), D("33.33"), D("33.34")]


def test_credits_follow_the_order_given():
    # 0.05 x 0.5 = 0.025 rounds up to 0.03 for the first rep; the last gets 0.05 - 0.03.
    assert credited_amounts(D("0.05"), [D("0.5"), D("0.5")]) == [D("0.03"), D("0.02")]
    # 10.01 x 0.3334 = 3.337334 -> 3.34; 10.01 x 0.6666 (last) = 10.01 - 3.34 = 6.67.
    assert credited_amounts(D("10.01"), [D("0.3334"), D("0.6666")]) == [D("3.34"), D("6.67")]
    assert credited_amounts(D("10.01"), [D("0.6666"), D("0.3334")]) == [D("6.67"), D("3.34")]


def test_a_single_rep_is_credited_the_whole_amount():
    assert credited_amounts(D("20000.00"), [D("1")]) == [D("20000.00")]
    assert credited_amounts(D("0.00"), [D("0.25"), D("0.75")]) == [D("0.00"), D("0.00")]


def test_credits_add_up_to_the_line_amount():
    amount = D("7") * D("14.29")  # A = Quantity x Price = 100.03
    credits = credited_amounts(amount, [D("0.1"), D("0.2"), D("0.3"), D("0.4")])
    assert credits == [D("10.00"), D("20.01"), D("30.01"), D("40.01")]
    assert sum(credits) == amount


# ---------------------------------------------------------------------------
# Earning, Invoice: "a line earns once, when its invoice becomes Paid. Its statement line
# has LineAmount = the rep's credited amount".
# ---------------------------------------------------------------------------


def test_invoice_basis_line_amount_is_the_credited_amount():
    credits = credited_amounts(D("100.00"), THIRDS)
    commissions = [
        commission(base_commission(rating("0.10"), line_amount=c, quantity=4, whole_amount=D("100.00"), share=s))
        for c, s in zip(credits, THIRDS)
    ]
    # 33.33 x 0.10 = 3.333 -> 3.33; 33.34 x 0.10 = 3.334 -> 3.33.
    assert commissions == [D("3.33"), D("3.33"), D("3.33")]


# ---------------------------------------------------------------------------
# Earning, Payment: "Payments count in the order they were recorded; after payment k the
# invoice has received Ck of its total T (C0 = 0). Payment k gives the line a statement
# line of LineAmount round(A_R x Ck / T) - round(A_R x Ck-1 / T) (A_R the rep's credited
# amount) [...]; a share of 0 gives no line. Once paid, a line's shares add up to A_R."
# ---------------------------------------------------------------------------


def test_20000_invoice_at_20_percent_paid_in_two_halves():
    shares = payment_shares(D("20000.00"), D("20000.00"), [D("10000.00"), D("10000.00")])
    assert shares == [D("10000.00"), D("10000.00")]
    paid = [
        commission(base_commission(rating("0.20"), line_amount=s, quantity=1, whole_amount=D("20000.00"), share=D(1)))
        for s in shares
    ]
    assert paid == [D("2000.00"), D("2000.00")]


def test_payment_shares_of_an_odd_split():
    # A_R = 33.33 (the first third of 100.00), T = 100.00, payments 10.00, 45.55, 44.45:
    #   C = 10.00, 55.55, 100.00
    #   round(33.33 x 10.00 / 100) = round(3.333)    = 3.33
    #   round(33.33 x 55.55 / 100) = round(18.514815) = 18.51  -> 18.51 - 3.33  = 15.18
    #   round(33.33 x 100 / 100)   = 33.33                     -> 33.33 - 18.51 = 14.82
    shares = payment_shares(D("33.33"), D("100.00"), [D("10.00"), D("45.55"), D("44.45")])
    assert shares == [D("3.33"), D("15.18"), D("14.82")]
    assert sum(shares) == D("33.33")
    assert all(is_cents(s) for s in shares)


def test_payment_shares_are_differences_of_rounded_cumulative_amounts_not_rounded_parts():
    # A_R = 0.10 paid in four quarters of T = 4.00: cumulative 0.025 -> 0.03, 0.05,
    # 0.075 -> 0.08, 0.10; rounding each quarter (0.025 -> 0.03) would pay 0.12.
    shares = payment_shares(D("0.10"), D("4.00"), [D("1.00")] * 4)
    assert shares == [D("0.03"), D("0.02"), D("0.03"), D("0.02")]


def test_a_share_of_zero_is_returned_as_zero_in_its_place():
    # A_R = 0.01 over three payments of 1.00 on T = 3.00: 0.00333 -> 0.00, 0.00667 -> 0.01, 0.01.
    assert payment_shares(D("0.01"), D("3.00"), [D("1.00")] * 3) == [D("0.00"), D("0.01"), D("0.00")]


def test_partial_payments_give_the_shares_so_far():
    # Only 25.00 of 80.00 received: round(50.00 x 25 / 80) = round(15.625) = 15.63.
    assert payment_shares(D("50.00"), D("80.00"), [D("25.00")]) == [D("15.63")]
    assert payment_shares(D("50.00"), D("80.00"), []) == []


def test_once_paid_the_shares_add_up_to_the_credited_amount():
    payments = [D("0.01"), D("33.32"), D("0.07"), D("66.60")]
    for credited in credited_amounts(D("100.00"), THIRDS):
        assert sum(payment_shares(credited, D("100.00"), payments)) == credited


def test_payment_shares_refuse_what_cannot_be_recorded():
    with pytest.raises(ValueError):
        payment_shares(D("1.00"), D("0.00"), [])
    with pytest.raises(ValueError):
        payment_shares(D("1.00"), D("10.00"), [D("6.00"), D("4.01")])  # overpaid
    with pytest.raises(ValueError):
        payment_shares(D("1.00"), D("10.00"), [D("-1.00")])


# ---------------------------------------------------------------------------
# The rate. "A matching rule answers with its Rate or its AmountPerUnit." and
# "MinLineAmount <= A; A <= MaxLineAmount (A the invoice line's whole amount, whatever the
# credit or the payment share)."   (§4: a rule pays "either a Rate or an AmountPerUnit [...]
# never both, never neither")
# ---------------------------------------------------------------------------


def test_a_matching_rule_answers_with_its_rate_or_its_amount_per_unit():
    plan = compile_plan(
        PlanSpec(
            default_rate=D("0.05"),
            rules=(
                RuleSpec(priority=1, name="Bolts per unit", amount_per_unit=D("0.2500"), sku_patterns=("BOLT-*",)),
                RuleSpec(priority=2, name="Widgets", rate=D("0.10"), sku_patterns=("WID-*",)),
            ),
            overrides=(
                OverrideSpec(
                    "C9", rules=(RuleSpec(priority=1, name="Free", amount_per_unit=D("0"), sku_patterns=("WID-*",)),)
                ),
            ),
        )
    )
    assert plan.rate("BOLT-1", "Bolt", "C1", D("10.00"), DAY) == Rating(None, "Rule: Bolts per unit", D("0.25"))
    assert plan.rate("WID-1", "Widget", "C1", D("10.00"), DAY) == Rating(D("0.10"), "Rule: Widgets")
    assert plan.rate("WID-1", "Widget", "C1", D("10.00"), DAY).amount_per_unit is None
    assert plan.rate("WID-1", "Widget", "C9", D("10.00"), DAY) == Rating(None, "Override C9: Rule: Free", D("0"))
    assert plan.rate("NUT-1", "Nut", "C1", D("10.00"), DAY) == Rating(D("0.05"), "Plan default")
    assert list(plan.rate_rows([("BOLT-1", "Bolt", "C1", D("10.00"), DAY)])) == [
        Rating(None, "Rule: Bolts per unit", D("0.25"))
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate": D("0.1"), "amount_per_unit": D("1")},  # both
        {},  # neither
        {"amount_per_unit": D("-0.01")},
        {"amount_per_unit": D("1.00001")},
        {"amount_per_unit": D("NaN")},
        {"amount_per_unit": D("Infinity")},
        {"amount_per_unit": 1.5},
    ],
)
def test_a_rule_pays_exactly_one_valid_rate_or_amount_per_unit(kwargs):
    with pytest.raises(ValueError):
        compile_plan(PlanSpec(default_rate=D("0.05"), rules=(RuleSpec(priority=1, name="x", **kwargs),)))
    with pytest.raises(ValueError):
        compile_plan(
            PlanSpec(default_rate=D("0.05"), overrides=(OverrideSpec("C1", rules=(RuleSpec(1, "x", **kwargs),)),))
        )


def test_amount_per_unit_accepts_four_decimals_and_trailing_zeros():
    for apu in ("0", "12.3456", "1.500000", "100000"):
        plan = compile_plan(PlanSpec(D("0.05"), rules=(RuleSpec(1, "x", amount_per_unit=D(apu)),)))
        assert plan.rate("S", "N", "C", D("1.00"), DAY).amount_per_unit == D(apu)


def test_max_line_amount_is_checked_against_the_whole_amount_not_the_credit():
    plan = compile_plan(
        PlanSpec(
            default_rate=D("0.05"),
            rules=(RuleSpec(priority=1, name="Small lines", rate=D("0.10"), max_line_amount=D("1000.00")),),
        )
    )
    whole = D("1500.00")
    credits = credited_amounts(whole, [D("0.5"), D("0.5")])
    assert credits == [D("750.00"), D("750.00")]
    # Each rep's 750.00 is within the max, but the invoice line's 1,500.00 is not:
    assert plan.rate("S", "N", "C", credits[0], DAY).source == "Rule: Small lines"  # (the wrong call)
    assert plan.rate("S", "N", "C", whole, DAY) == Rating(D("0.05"), "Plan default")
    # ... and a payment's share of it is rated by the whole amount too.
    (first, _) = payment_shares(credits[0], whole, [D("100.00"), D("1400.00")])
    assert first == D("50.00")
    assert plan.rate("S", "N", "C", whole, DAY).rate == D("0.05")
    assert commission(base_commission(plan.rate("S", "N", "C", whole, DAY), line_amount=first,
                                      quantity=3, whole_amount=whole, share=D("0.5"))) == D("2.50")


def test_min_line_amount_is_checked_against_the_whole_amount_not_the_credit():
    plan = compile_plan(
        PlanSpec(D("0.05"), rules=(RuleSpec(1, "Big lines", rate=D("0.08"), min_line_amount=D("1000.00")),))
    )
    whole = D("1200.00")
    credit = credited_amounts(whole, [D("0.25"), D("0.75")])[0]
    assert credit == D("300.00")
    assert plan.rate("S", "N", "C", whole, DAY).source == "Rule: Big lines"
    assert plan.rate("S", "N", "C", credit, DAY).source == "Plan default"  # (the wrong call)


# ---------------------------------------------------------------------------
# Base commission. "B of a sales line: LineAmount x Rate; for a rule paying per unit,
# Quantity x AmountPerUnit x f, where f = LineAmount / A is the part of the line this
# statement line carries (f = the rep's Share when A = 0)."
# ---------------------------------------------------------------------------


def test_base_of_a_rate_paid_line_is_line_amount_times_rate():
    b = base_commission(rating("0.0725"), line_amount=D("33.33"), quantity=10, whole_amount=D("100.00"), share=D("0.3333"))
    assert b == F(D("33.33") * D("0.0725")) == F(2416425, 1000000)  # 2.416425, exact
    assert commission(b) == D("2.42")


def test_per_unit_rule_on_a_split_line_uses_line_amount_over_a_not_the_share():
    # Quantity 3 x Price 0.01: A = 0.03, shares 0.5 / 0.5 -> credits 0.02 (0.015 rounds up) and 0.01.
    whole = D(3) * D("0.01")
    credits = credited_amounts(whole, [D("0.5"), D("0.5")])
    assert credits == [D("0.02"), D("0.01")]
    per_unit = rating(apu="1.00", source="Rule: Per unit")
    bases = [base_commission(per_unit, line_amount=c, quantity=3, whole_amount=whole, share=D("0.5")) for c in credits]
    # f = 0.02 / 0.03 = 2/3 -> B = 3 x 1.00 x 2/3 = 2; f = 1/3 -> B = 1 (the share 0.5 would give 1.50 each).
    assert bases == [F(2), F(1)]
    assert [commission(b) for b in bases] == [D("2.00"), D("1.00")]


def test_per_unit_rule_split_in_thirds():
    # Quantity 10 x 30.00 = 300.00 in thirds: credits 99.99, 99.99, 100.02; AmountPerUnit 1.50.
    whole = D(10) * D("30.00")
    credits = credited_amounts(whole, THIRDS)
    assert credits == [D("99.99"), D("99.99"), D("100.02")]
    per_unit = rating(apu="1.50")
    bases = [base_commission(per_unit, line_amount=c, quantity=10, whole_amount=whole, share=s)
             for c, s in zip(credits, THIRDS)]
    # 15 x 99.99 / 300 = 4.9995 -> 5.00; 15 x 100.02 / 300 = 5.001 -> 5.00.
    assert bases == [F(49995, 10000), F(49995, 10000), F(5001, 1000)]
    assert [commission(b) for b in bases] == [D("5.00"), D("5.00"), D("5.00")]


def test_per_unit_rule_on_a_payment_share():
    # 4 units x 25.00 = 100.00, one rep, paid 40.00 then 60.00, AmountPerUnit 2.00 (8.00 in all):
    # f = 40/100 -> B = 4 x 2 x 0.4 = 3.20; f = 60/100 -> 4.80.
    shares = payment_shares(D("100.00"), D("100.00"), [D("40.00"), D("60.00")])
    bases = [base_commission(rating(apu="2.00"), line_amount=s, quantity=4, whole_amount=D("100.00"), share=D(1))
             for s in shares]
    assert [commission(b) for b in bases] == [D("3.20"), D("4.80")]


def test_per_unit_rule_on_a_zero_amount_line_uses_the_share():
    # 4 free units (Price 0.00): A = 0, credits 0.00 and 0.00; AmountPerUnit 2.50, shares 0.25 / 0.75.
    whole = D(4) * D("0.00")
    credits = credited_amounts(whole, [D("0.25"), D("0.75")])
    bases = [base_commission(rating(apu="2.50"), line_amount=c, quantity=4, whole_amount=whole, share=s)
             for c, s in zip(credits, [D("0.25"), D("0.75")])]
    assert bases == [F(5, 2), F(15, 2)]  # 4 x 2.50 x 0.25 = 2.50, 4 x 2.50 x 0.75 = 7.50
    assert [commission(b) for b in bases] == [D("2.50"), D("7.50")]


def test_a_rate_paid_zero_amount_line_earns_nothing():
    assert commission(base_commission(rating("0.5"), line_amount=D("0.00"), quantity=4,
                                      whole_amount=D("0.00"), share=D("0.5")), F(2)) == D("0.00")


# ---------------------------------------------------------------------------
# Accelerators. "Without them every line's Multiplier is 1. With them, [...] the tiers'
# thresholds are Quota x From, and for a sales total x, m(x) is the Multiplier of the last
# tier whose threshold <= x (1 below the first tier)."
# ---------------------------------------------------------------------------


def test_without_accelerators_every_multiplier_is_exactly_one():
    for s in (MultiplierSchedule(), MultiplierSchedule(quota=D("5000.00")),
              MultiplierSchedule(None, (), "Retroactive")):
        assert s.multipliers([D("100.00"), D("0.00"), D("99999.99")]) == [1, 1, 1]
        assert s.m(D("1000000.00")) == 1 and s.retroactive(D("1000000.00")) == 1
        assert s.marginal(D("10.00"), D("5.00")) == 1 and isinstance(s.marginal(D("1"), D("1")), Fraction)


def test_thresholds_are_quota_times_from_and_m_is_the_last_tier_reached():
    s = schedule("10000.00", ("0.5", "1.25"), ("1", "1.5"), ("1.2345", "0"))
    assert s.thresholds == (D("5000.00"), D("10000.00"), D("12345.00"))
    assert s.m(D("0.00")) == 1
    assert s.m(D("4999.99")) == 1  # 1 below the first tier
    assert s.m(D("5000.00")) == F(5, 4)  # threshold <= x: the tier starts at its threshold
    assert s.m(D("9999.99")) == F(5, 4)
    assert s.m(D("10000.00")) == F(3, 2)
    assert s.m(D("12344.99")) == F(3, 2)
    assert s.m(D("12345.00")) == 0  # a multiplier may be 0
    assert s.m(D("99999999.99")) == 0


def test_a_tier_from_zero_applies_from_the_first_cent():
    s = schedule("100.00", ("0", "0.5"))
    assert s.m(D("0")) == F(1, 2)
    assert s.multipliers([D("10.00"), D("0.00")]) == [F(1, 2), F(1, 2)]


@pytest.mark.parametrize(
    "quota, tiers",
    [
        (None, [("0.5", "1.5")]),  # "Accelerators without a Quota are a 400"
        ("0", [("0.5", "1.5")]),
        ("-100.00", []),
        ("100.001", []),
        ("100.00", [("0.5", "1.5"), ("0.5", "2")]),  # From strictly increasing
        ("100.00", [("0.6", "1.5"), ("0.5", "2")]),
        ("100.00", [("-0.1", "1.5")]),
        ("100.00", [("0.12345", "1.5")]),
        ("100.00", [("0.5", "-1")]),
        ("100.00", [("0.5", "1.00001")]),
        ("100.00", [("NaN", "1")]),
        ("100.00", [("0.5", "Infinity")]),
    ],
)
def test_bad_schedules_are_refused(quota, tiers):
    with pytest.raises(ValueError):
        MultiplierSchedule(None if quota is None else D(quota), [AcceleratorSpec(D(f), D(m)) for f, m in tiers])


def test_bad_method_is_refused():
    with pytest.raises(ValueError):
        MultiplierSchedule(D("100.00"), [AcceleratorSpec(D("1"), D("2"))], "Progressive")


# "Retroactive: every sales line's Multiplier is m(SalesTotal)."
# "Marginal: [...] a line covers the running total from s0 (the sum of the lines before it)
# to s1 = s0 + LineAmount, and its Multiplier is the amount-weighted mean of m over [s0, s1):
# the pieces of that span cut at the thresholds, each piece's length times its tier's
# multiplier, summed and divided by LineAmount (a line of amount 0 takes m(s0))."

QUOTA = "10000.00"
TIERS = (("0.5", "1.25"), ("1", "1.5"))  # thresholds 5,000.00 (x1.25) and 10,000.00 (x1.5)
LINES = [D("3000.00"), D("8000.00"), D("500.00")]


def test_marginal_line_straddling_two_thresholds():
    s = schedule(QUOTA, *TIERS)
    # The second line covers [3,000, 11,000):
    #   [3,000, 5,000)   2,000 x 1    = 2,000
    #   [5,000, 10,000)  5,000 x 1.25 = 6,250
    #   [10,000, 11,000) 1,000 x 1.5  = 1,500
    #   sum 9,750 / 8,000 = 1.21875
    assert s.weighted_sum(D("3000.00"), D("8000.00")) == D("9750")
    assert s.marginal(D("3000.00"), D("8000.00")) == F(9750, 8000) == F(39, 32)
    assert s.multipliers(LINES) == [F(1), F(39, 32), F(3, 2)]
    # At 10%: round(800 x 1.21875) = round(0.10 x 9,750) = 975.00.
    b = base_commission(rating("0.10"), line_amount=D("8000.00"), quantity=8, whole_amount=D("8000.00"), share=D(1))
    assert commission(b, F(39, 32)) == D("975.00")


def test_marginal_line_inside_one_tier_takes_that_tier():
    s = schedule(QUOTA, *TIERS)
    assert s.marginal(D("5000.00"), D("4999.99")) == F(5, 4)
    assert s.marginal(D("0.00"), D("5000.00")) == 1  # [0, 5,000): the threshold itself is not covered


def test_retroactive_vs_marginal_on_the_same_lines():
    marginal = schedule(QUOTA, *TIERS)
    retro = schedule(QUOTA, *TIERS, method="Retroactive")
    # SalesTotal 11,500.00 >= 10,000.00: every line at 1.5.
    assert retro.multipliers(LINES) == [F(3, 2)] * 3
    assert retro.retroactive(D("11500.00")) == F(3, 2)
    assert marginal.multipliers(LINES) == [F(1), F(39, 32), F(3, 2)]
    rate10 = rating("0.10")

    def paid(multipliers):
        return [
            commission(base_commission(rate10, line_amount=a, quantity=1, whole_amount=a, share=D(1)), m)
            for a, m in zip(LINES, multipliers)
        ]

    assert paid(retro.multipliers(LINES)) == [D("450.00"), D("1200.00"), D("75.00")]
    assert paid(marginal.multipliers(LINES)) == [D("300.00"), D("975.00"), D("75.00")]
    # Marginal pays the integral: 0.10 x (5,000 x 1 + 5,000 x 1.25 + 1,500 x 1.5) = 1,350.00.
    assert sum(paid(marginal.multipliers(LINES))) == D("1350.00")


def test_retroactive_below_the_first_tier_is_one():
    retro = schedule(QUOTA, *TIERS, method="Retroactive")
    assert retro.multipliers([D("4000.00"), D("999.99")]) == [1, 1]
    assert retro.multipliers([D("4000.00"), D("1000.00")]) == [F(5, 4)] * 2


def test_a_zero_amount_line_takes_m_at_s0():
    s = schedule(QUOTA, *TIERS)
    assert s.marginal(D("4999.99"), D("0.00")) == 1
    assert s.marginal(D("5000.00"), D("0.00")) == F(5, 4)  # exactly at a threshold: that tier
    assert s.marginal(D("10000.00"), D("0")) == F(3, 2)
    assert s.multipliers([D("5000.00"), D("0.00"), D("5000.00"), D("0.00")]) == [1, F(5, 4), F(5, 4), F(3, 2)]


# "It is shown rounded half-up to 6 decimals; the commission uses it exact (for a rate-paid
# line: round(Rate x Σ piece x multiplier)), and so does a clawback of that line."

# Quota 10,000,000.00, one tier from 0.1 (1,000,000.00) at x2: a first line of 3,000,000.00
# covers 1,000,000 x 1 + 2,000,000 x 2 = 5,000,000 -> m = 5/3 = 1.666667 shown.
BIG = dict(quota="10000000.00", tiers=(("0.1", "2"),))


def test_multiplier_shown_to_six_decimals_but_used_exact():
    s = schedule(BIG["quota"], *BIG["tiers"])
    m = s.marginal(D("0.00"), D("3000000.00"))
    assert m == F(5, 3)
    assert display_multiplier(m) == D("1.666667")
    assert display_multiplier(F(1, 8_000_000)) == D("0.000000")
    assert display_multiplier(F(1, 2_000_000)) == D("0.000001")  # 0.0000005 rounds half-up
    assert display_multiplier(F(1)) == D("1.000000")
    b = base_commission(rating("0.5"), line_amount=D("3000000.00"), quantity=3000, whole_amount=D("3000000.00"),
                        share=D(1))
    # round(0.5 x 5,000,000) = 2,500,000.00; with the shown 1.666667 it would be 2,500,000.50.
    assert commission(b, m) == D("2500000.00")
    assert commission(b, display_multiplier(m)) == D("2500000.50")
    assert commission(b, m) == round_cents(D("0.5") * s.weighted_sum(D("0.00"), D("3000000.00")))


# ---------------------------------------------------------------------------
# Commission. "Commission of a sales line = round(B x Multiplier)."
# ---------------------------------------------------------------------------


def test_commission_of_a_250_line_at_5_percent():
    b = base_commission(rating("0.05"), line_amount=D("2.50"), quantity=1, whole_amount=D("2.50"), share=D(1))
    assert b == F(1, 8)  # 0.125
    assert commission(b) == D("0.13")
    assert commission(b, F(1)) == D("0.13")
    assert is_cents(commission(F(0)))


def test_line_commission_is_commission_of_the_base_in_one_call():
    cases = [
        (rating("0.05"), D("2.50"), 1, D("2.50"), D(1), F(1), D("0.13")),
        (rating("0.10"), D("8000.00"), 8, D("8000.00"), D(1), F(39, 32), D("975.00")),
        (rating(apu="1.00"), D("0.02"), 3, D("0.03"), D("0.5"), F(1), D("2.00")),
        (rating(apu="2.50"), D("0.00"), 4, D("0.00"), D("0.75"), F(3, 2), D("11.25")),
        (rating("0.5"), D("3000000.00"), 3000, D("3000000.00"), D(1), F(5, 3), D("2500000.00")),
    ]
    for r, amount, quantity, whole, share, m, expected in cases:
        args = dict(line_amount=amount, quantity=quantity, whole_amount=whole, share=share)
        assert commission(base_commission(r, **args), m) == expected
        assert line_commission(r, multiplier=m, **args) == expected


# ---------------------------------------------------------------------------
# Clawbacks. "A credit-memo line returning q units of invoice line L (price P) is, for R, a
# line with Quantity -q and LineAmount -(R's credit of q x P, by the shares of L's order as
# above). It is paid at the Rate or AmountPerUnit and the Multiplier of the last statement
# line that commissioned L to R [...]; its base B is computed as for a sales line from
# |LineAmount|, with A = q x P and Quantity q; its commission is -round(B x Multiplier)."
# ---------------------------------------------------------------------------


def test_clawback_of_the_250_line_at_5_percent():
    line_amount = -credited_amounts(D(1) * D("2.50"), [D(1)])[0]
    assert line_amount == D("-2.50")
    got = clawback_commission(rating("0.05"), line_amount=line_amount, quantity=-1, price=D("2.50"),
                              share=D(1), multiplier=F(1))
    assert got == D("-0.13")  # -round(0.125), not round(-0.125) computed some other way


def test_clawback_line_amount_is_minus_the_reps_credit_of_q_times_p():
    # L: 9 units x 11.11; 2 returned: q x P = 22.22, credits in thirds 7.41 (7.405926), 7.41, 7.40.
    returned = D(2) * D("11.11")
    assert [-c for c in credited_amounts(returned, THIRDS)] == [D("-7.41"), D("-7.41"), D("-7.40")]


def test_clawback_uses_the_original_rate_and_exact_multiplier():
    s = schedule(BIG["quota"], *BIG["tiers"])
    m = s.marginal(D("0.00"), D("3000000.00"))  # 5/3, stored exactly ...
    stored = multiplier_to_storage(m)
    later = multiplier_from_storage(*stored)  # ... and read back months later
    assert later == F(5, 3)
    # All 3,000 units of 1,000.00 come back: B = 3,000,000 x 0.5, commission -2,500,000.00
    # (with the shown 1.666667 it would be -2,500,000.50).
    got = clawback_commission(rating("0.5"), line_amount=D("-3000000.00"), quantity=-3000, price=D("1000.00"),
                              share=D(1), multiplier=later)
    assert got == D("-2500000.00")
    # 3 units: B = 3,000 x 0.5 = 1,500 -> -round(2,500) = -2,500.00.
    assert clawback_commission(rating("0.5"), line_amount=D("-3000.00"), quantity=-3, price=D("1000.00"),
                               share=D(1), multiplier=later) == D("-2500.00")


def test_clawback_of_a_marginal_line_mirrors_it_when_all_of_it_comes_back():
    s = schedule(QUOTA, *TIERS)
    m = s.multipliers(LINES)[1]  # 39/32, the straddling 8,000.00 line (8 x 1,000.00)
    original = commission(base_commission(rating("0.10"), line_amount=D("8000.00"), quantity=8,
                                          whole_amount=D("8000.00"), share=D(1)), m)
    back = clawback_commission(rating("0.10"), line_amount=D("-8000.00"), quantity=-8, price=D("1000.00"),
                               share=D(1), multiplier=m)
    assert back == -original == D("-975.00")


def test_per_unit_clawback_of_a_split_line():
    # L: 3 units x 0.01 split 0.5 / 0.5, AmountPerUnit 1.00 (see the per-unit test above);
    # all 3 come back: q x P = 0.03, first rep's LineAmount -0.02, f = 0.02 / 0.03.
    per_unit = rating(apu="1.00")
    credits = credited_amounts(D(3) * D("0.01"), [D("0.5"), D("0.5")])
    got = [clawback_commission(per_unit, line_amount=-c, quantity=-3, price=D("0.01"), share=D("0.5"),
                               multiplier=F(1)) for c in credits]
    assert got == [D("-2.00"), D("-1.00")]
    # One unit back: q x P = 0.01 -> credits 0.01 (0.005 rounds up) and 0.00.
    one = credited_amounts(D(1) * D("0.01"), [D("0.5"), D("0.5")])
    assert one == [D("0.01"), D("0.00")]
    got = [clawback_commission(per_unit, line_amount=-c, quantity=-1, price=D("0.01"), share=D("0.5"),
                               multiplier=F(1)) for c in one]
    assert got == [D("-1.00"), D("0.00")]  # f = 1 and f = 0; never -0.00
    assert str(got[1]) == "0.00"


def test_per_unit_clawback_of_a_free_line_uses_the_share():
    # 2 of 4 free units come back: q x P = 0, f = Share = 0.75 -> B = 2 x 2.50 x 0.75 = 3.75.
    got = clawback_commission(rating(apu="2.50"), line_amount=D("0.00"), quantity=-2, price=D("0.00"),
                              share=D("0.75"), multiplier=F(3, 2))
    assert got == D("-5.63")  # -round(5.625)


def test_clawback_quantity_and_amount_may_be_given_either_sign():
    args = dict(price=D("2.50"), share=D(1), multiplier=F(1))
    r = rating("0.05")
    assert clawback_commission(r, line_amount=D("2.50"), quantity=1, **args) == D("-0.13")
    assert clawback_commission(r, line_amount=D("-2.50"), quantity=-1, **args) == D("-0.13")


# ---------------------------------------------------------------------------
# Storage of the exact multiplier (what makes "and so does a clawback of that line" hold
# when the clawback is made months later), and Attainment (§4).
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "m, stored",
    [
        (F(1), (D("1"), D("1"))),
        (F(0), (D("0"), D("1"))),
        (F(3, 2), (D("1.5"), D("1"))),
        (F(39, 32), (D("1.21875"), D("1"))),
        (F(5, 3), (D("0.05"), D("0.03"))),
        (F(12345678, 10**10), (D("0.0012345678"), D("1"))),
    ],
)
def test_multiplier_storage(m, stored):
    assert multiplier_to_storage(m) == stored
    assert multiplier_from_storage(*stored) == m


def test_multiplier_storage_of_an_awkward_marginal_line():
    # Quota 333.33, tier from 0.3333 (threshold 111.098889) at 1.0001; a 0.07 line from 111.05:
    # pieces 0.048889 x 1 + 0.021111 x 1.0001 = 0.0700021111 -> m = 0.0700021111 / 0.07.
    s = schedule("333.33", ("0.3333", "1.0001"))
    assert s.weighted_sum(D("111.05"), D("0.07")) == D("0.0700021111")
    m = s.marginal(D("111.05"), D("0.07"))
    assert m == F(D("0.0700021111")) / F(D("0.07"))
    num, den = multiplier_to_storage(m)
    assert multiplier_from_storage(num, den) == m
    assert den <= D("0.07") and (den * 100) % 1 == 0 and (num * 10**10) % 1 == 0


def test_attainment_is_sales_total_over_quota_half_up_to_4_decimals():
    assert attainment(D("11500.00"), D("10000.00")) == D("1.1500")
    assert attainment(D("1.00"), D("3.00")) == D("0.3333")
    assert attainment(D("2.00"), D("3.00")) == D("0.6667")
    assert attainment(D("0.05"), D("1000.00")) == D("0.0001")  # 0.00005 rounds up
    assert attainment(D("100.00"), None) is None
