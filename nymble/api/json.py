"""JSON that keeps money exact: decimals are written as JSON numbers with their own digits
(18.50 stays 18.50) and read back as Decimal, never through float.

The parser is also where hostile JSON stops, once for every endpoint: a body past
DATA_UPLOAD_MAX_MEMORY_SIZE (413), nesting deeper than MAX_DEPTH and lone surrogates (400)."""
import re
from decimal import Decimal

import orjson
import simplejson
from django.conf import settings
from django.db import connection
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

MAX_DEPTH = 100  # arrays and objects inside one another

# UTF-8 cannot encode a surrogate, so one can only come from a \uD800-\uDFFF escape (or from a
# charset that decodes to one): without a match the parsed data needs no walk to look for them.
MAY_HOLD_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|[\ud800-\udfff]")
# The parser joins a valid pair (an emoji) into one character: what is left is lone.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class DecimalJSONRenderer(JSONRenderer):
    """DRF's JSON renderer, writing Decimal as an exact JSON number.

    orjson writes the page (a list page's rendering took several times as long with simplejson);
    what it does not know natively, and datetimes (whose form DRF's encoder decides: `Z` for UTC),
    go to `_default`, a Decimal as its own digits."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=_default, option=RENDER_OPTIONS)


RENDER_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
_drf_default = JSONEncoder().default


def _default(value):
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    return _drf_default(value)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


class DecimalJSONParser(JSONParser):
    """Reads JSON numbers with a fraction as Decimal; NaN and Infinity are malformed JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        raw = read_at_most(stream, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:  # LookupError: a charset that is no text encoding
            raise exceptions.ParseError(f"Malformed JSON: {exc}") from exc
        try:
            data = simplejson.loads(text, parse_float=Decimal, parse_constant=_reject_constant) if text else {}
        except RecursionError:
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels is not accepted.") from None
        except ValueError as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}") from exc
        # The serializers, the renderer and the database recurse into what passes here.
        if text.count("[") + text.count("{") > MAX_DEPTH and deeper_than(data, MAX_DEPTH):
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels is not accepted.")
        # A lone surrogate is no text: it cannot be rendered, stored in PostgreSQL nor encoded as UTF-8.
        if MAY_HOLD_SURROGATE.search(text):
            errors = lone_surrogates(data)
            if errors:
                raise exceptions.ValidationError(errors)
        return data


def read_at_most(stream, limit: int | None) -> bytes:
    """The body, refused (413) past `limit` bytes: read limit + 1 at most, whatever Content-Length
    said (the middleware refuses an announced length over the limit before anything reads)."""
    if limit is None:
        return stream.read()
    data = bytearray()
    while len(data) <= limit:
        chunk = stream.read(limit + 1 - len(data))
        if not chunk:
            break
        data += chunk
    if len(data) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    return bytes(data)


def deeper_than(data, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels deep: level by level, without
    recursion, so that a structure deep enough to exhaust the stack can be measured."""
    level = [data] if isinstance(data, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below = []
        for value in level:
            below.extend(child for child in (value.values() if isinstance(value, dict) else value)
                         if isinstance(child, (dict, list)))
        level = below
    return False


def lone_surrogates(data) -> dict[str, list[str]]:
    """{"Addresses[0].City": [why], ...} for every key and string value holding a lone surrogate,
    named as `flatten_errors` names fields. A key is named with its surrogate escaped (\\ud800),
    since the answer must itself be valid text."""
    errors: dict[str, list[str]] = {}
    stack = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if found := LONE_SURROGATE.search(value):
                errors.setdefault(path, []).append(f"Not valid Unicode: a lone surrogate (U+{ord(found.group()):04X}).")
        elif isinstance(value, dict):
            items = []
            for key, item in value.items():
                name = key.encode("utf-8", "backslashreplace").decode("utf-8")
                name = f"{path}.{name}" if path else name
                if found := LONE_SURROGATE.search(key):
                    errors.setdefault(name, []).append(
                        f"Not valid Unicode: the key holds a lone surrogate (U+{ord(found.group()):04X}).")
                items.append((item, name))
            stack.extend(reversed(items))  # in document order
        elif isinstance(value, list):
            stack.extend(reversed([(item, f"{path}[{index}]") for index, item in enumerate(value)]))
    return errors


# ---------------------------------------------------------------- list pages written by PostgreSQL


def json_in_database() -> bool:
    """Whether list pages are written by the database as JSON (PostgreSQL) rather than by their
    serializers (SQLite, the embedded default; each such list has a test holding the two equal)."""
    return connection.vendor == "postgresql"


def sql_timestamp(column: str) -> str:
    """SQL for a UTC timestamp as DRF writes one (`isoformat`, `Z` for UTC, microseconds only when
    not 0); for a query executed with parameters (`%%` is its `%`)."""
    return (f"to_char({column} AT TIME ZONE 'UTC', CASE WHEN extract(microseconds FROM {column})::bigint "
            f"%% 1000000 = 0 THEN 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"' ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"' END)")


def json_from_query(sql: str, params: list) -> orjson.Fragment:
    """The one text value the query returns, handed to the renderer as JSON it writes as it is."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return orjson.Fragment(cursor.fetchone()[0])
