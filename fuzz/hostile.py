"""Hostile bodies (§10) mixed into the fuzzer's own: each generated JSON body is sent as it was
drawn, or with one value nested 150 levels deep, or with a lone surrogate in every string, or with
a direction-changing and a zero-width character in every string (identifiers must refuse them,
free text may keep them). Hypothesis draws which, so a failure shrinks towards the body as drawn,
and a derandomized run draws the same ones every time.

Schemathesis revalidates a case whose body a hook replaced, so a negative case made valid by the
change (a too-short string grown) is judged as the positive case it has become. A body with lone
surrogates goes as the JSON text a client would send (`\ud800` escapes): schemathesis's validator
cannot encode a lone surrogate to check it against a pattern."""
import json

from hypothesis import strategies as st

DEPTH = 150
LONE_SURROGATE = "\ud800"
INVISIBLE = "\u202e\u200b"  # RIGHT-TO-LEFT OVERRIDE, ZERO WIDTH SPACE

AS_DRAWN, NESTED, SURROGATES, BIDI = "as drawn", "nested 150 deep", "lone surrogates", "bidi and zero-width"


def hostile_cases(case):
    """A strategy of the case with its body as drawn or made hostile in one of the three ways."""
    if not isinstance(case.body, (dict, list)):  # no body, or a negative one that is no JSON container
        return st.just(case)
    # Half as drawn, so that the fuzzer's own inputs still reach the rules behind the parser.
    kinds = st.one_of(st.just(AS_DRAWN), st.sampled_from([NESTED, SURROGATES, BIDI]))
    return kinds.map(lambda kind: _with_body(case, kind))


def _with_body(case, kind: str):
    if kind != AS_DRAWN:
        case.body = hostile_body(case.body, kind)  # a replaced body: schemathesis revalidates the case
    return case


def hostile_body(body, kind: str):
    if kind == NESTED:
        return nested_deep(body)
    if kind == SURROGATES:
        return json.dumps(in_every_string(body, LONE_SURROGATE)).encode()  # sent as these bytes
    return in_every_string(body, INVISIBLE)


def nested_deep(body):
    """The body with its first value (an object's first property, a list's first item) inside
    DEPTH - 1 arrays, so that the body nests DEPTH levels deep; an empty body goes inside them itself."""
    if not body:
        return _inside_arrays(body, DEPTH - 1)
    first = next(iter(body)) if isinstance(body, dict) else 0
    copy = dict(body) if isinstance(body, dict) else list(body)
    copy[first] = _inside_arrays(body[first], DEPTH - 1)
    return copy


def _inside_arrays(value, levels: int):
    for _ in range(levels):
        value = [value]
    return value


def in_every_string(value, characters: str):
    """Every string value, at any depth, with `characters` in its middle (keys stay as they are:
    an unknown key would be refused before the value is looked at)."""
    if isinstance(value, str):
        middle = len(value) // 2
        return value[:middle] + characters + value[middle:]
    if isinstance(value, dict):
        return {key: in_every_string(item, characters) for key, item in value.items()}
    if isinstance(value, list):
        return [in_every_string(item, characters) for item in value]
    return value
