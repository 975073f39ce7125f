"""JSON that keeps money exact: decimals are written as JSON numbers with their own digits
(18.50 stays 18.50) and read back as Decimal, never through float."""
from decimal import Decimal

import simplejson
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder


class DecimalJSONRenderer(JSONRenderer):
    """DRF's JSON renderer, writing Decimal as an exact JSON number."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return simplejson.dumps(
            data, use_decimal=True, default=JSONEncoder().default, ensure_ascii=False, separators=(",", ":")
        ).encode()


def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


class DecimalJSONParser(JSONParser):
    """Reads JSON numbers with a fraction as Decimal; NaN and Infinity are malformed JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            text = stream.read().decode(encoding)
            return simplejson.loads(text, parse_float=Decimal, parse_constant=_reject_constant) if text else {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}") from exc
