"""Schemathesis hooks for paperlink-mock's contract run (.ci/contract).

Prices and tax rates are exact decimals with at most 28 decimal places: `1e-308` is refused with
"must have at most 28 decimal places". JSON Schema has no keyword for a number of decimal places
(`multipleOf` on floats is inexact), so the document says it in words, and this hook keeps the
fuzzer's generated numbers within the rule. It only rounds positive floats of `unitPrice` and
`taxRate` to 12 places, which a valid value stays valid under; negative values, wrong types and
numbers out of range are left as drawn, so every negative case still breaks its rule.
"""

import schemathesis

DECIMAL_FIELDS = ("unitPrice", "taxRate")


@schemathesis.hook
def map_body(ctx, body):
    if isinstance(body, dict):
        for field in DECIMAL_FIELDS:
            value = body.get(field)
            if isinstance(value, float) and value > 0:
                body[field] = round(value, 12)
    return body
