"""Schemathesis hooks for paperlink-mock's contract run (.ci/contract).

Prices and tax rates are exact decimals with at most 28 decimal places: `1e-308` is refused with
"must have at most 28 decimal places". JSON Schema has no keyword for a number of decimal places
(`multipleOf` on floats is inexact), so the document says it in words, and this hook keeps the
fuzzer's generated numbers within the rule.

It changes only what the rule is about: a positive float of `unitPrice` or `taxRate` whose text
has more than 28 decimal places, which a float has only when it is below 1e-11, is rounded to 28
places. Such a value is valid for every other rule of the schema before and after, so a
negative case stays negative (its violation is elsewhere), and a value just past a bound
(`100.00000000000001`, 14 places) is never touched.
"""

from decimal import Decimal

import schemathesis

DECIMAL_FIELDS = ("unitPrice", "taxRate")
MAX_PLACES = 28


def too_precise(value):
    return Decimal(repr(value)).as_tuple().exponent < -MAX_PLACES


@schemathesis.hook
def map_body(ctx, body):
    if isinstance(body, dict):
        for field in DECIMAL_FIELDS:
            value = body.get(field)
            if isinstance(value, float) and value > 0 and too_precise(value):
                body[field] = round(value, MAX_PLACES)
    return body
