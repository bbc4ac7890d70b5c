"""Seeded, lazy generator of Partner Center customers and orders, plus the reference samples.

Customer ``i`` and its orders come from their own ``random.Random`` seeded with ``(seed, i)``,
so any customer can be rebuilt on demand and memory stays flat however many customers exist.
"""

from __future__ import annotations

import base64
import random
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

JSON = dict[str, Any]

SAMPLE_CUSTOMER_ID = "b0d70a69-4c42-4b27-b17b-91a835d8686a"

_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_EPOCH = datetime(2017, 1, 1, tzinfo=UTC)
_CYCLES = ("monthly", "annual", "one_time", "none", "triennial", "biennial", "quadrennial")
_CYCLE_WEIGHTS = (40, 25, 15, 8, 6, 4, 2)
_CURRENCIES = (("USD", "$"), ("USD", "$"), ("EUR", "€"), ("GBP", "£"), ("JPY", "¥"), ("DKK", "kr"))
_LINE_TRANSACTIONS = ("new", "renew", "addQuantity", "removeQuantity", "cancel", "convert")
_LINE_WEIGHTS = (50, 25, 12, 5, 5, 3)
# friendlyName, productId, skuId, offerId, list price per unit
_PRODUCTS = (
    (
        "Microsoft 365 Business Premium",
        "CFQ7TTC0LCHC",
        "0002",
        "CFQ7TTC0LCHC:0002:CFQ7TTC0N8SS",
        22.0,
    ),
    ("Microsoft 365 E3", "CFQ7TTC0LFLX", "0001", "CFQ7TTC0LFLX:0001:CFQ7TTC0LFM0", 36.0),
    ("Exchange Online (Plan 1)", "CFQ7TTC0LH16", "0001", "CFQ7TTC0LH16:0001:CFQ7TTC0LH1G", 4.0),
    (
        "Dynamics 365 Sales Enterprise",
        "CFQ7TTC0LH3N",
        "0001",
        "CFQ7TTC0LH3N:0001:CFQ7TTC0KJ7S",
        95.0,
    ),
    (
        "Azure Active Directory Premium P2",
        "84A661C4-E949-4BD2-A560-ED7766FCAF2B",
        "E59159FC-6F67-4599-B3CB-17FF4020F643",
        "E59159FC-6F67-4599-B3CB-17FF4020F643",
        9.0,
    ),
    (
        "Reserved_VM_Instance_Standard_D1_AP_East_1_Year",
        "DZH318Z0BQ4B",
        "000Z",
        "DZH318Z0BQ4B:000Z:DZH318Z0DSPL",
        612.48,
    ),
)
_NAMES = ("Contoso", "Fabrikam", "Northwind Traders", "Tailspin Toys", "Adventure Works", "Litware")
_NAMES2 = ("Wingtip", "Proseware", "Woodgrove Bank", "Alpine Ski House", "Coho Winery", "Lamna")
_SUFFIXES = ("Ltd", "Inc.", "GmbH", "LLC", "Pty Ltd", "S.A.", "AB", "BV", "")
_AWKWARD_NAMES = (
    "Müller & Söhne, GmbH",
    'The "Quoted" Company, Inc.',
    "Line One\nLine Two Ltd",
    "Zoë's Café; Bar & Grill",
    "株式会社サンプル",
    "Smith, Jones, and Partners",
    '=HYPERLINK("http://example.com") Corp',
)
_LOCALES = (("en-US", "US", "Seattle"), ("de-DE", "DE", "München"), ("da-DK", "DK", "Aarhus"))


def link(uri: str) -> JSON:
    """A Partner Center ``Link`` to ``uri`` with no headers."""
    return {"uri": uri, "method": "GET", "headers": []}


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def customer_ids(seed: int, count: int) -> list[str]:
    """The ids of the ``count`` generated customers, in listing order."""
    rng = random.Random(f"{seed}/ids")
    return [_guid(rng) for _ in range(count)]


def reseller_ids(seed: int) -> list[str]:
    """The small pool of indirect reseller ids that line items name as ``partnerIdOnRecord``."""
    rng = random.Random(f"{seed}/resellers")
    return [_guid(rng) for _ in range(6)]


def customer(seed: int, index: int, customer_id: str) -> JSON:
    """The customer resource of generated customer ``index``."""
    rng = random.Random(f"{seed}/customer/{index}")
    if rng.random() < 0.12:
        name = rng.choice(_AWKWARD_NAMES)
    else:
        name = f"{rng.choice(_NAMES + _NAMES2)} {rng.choice(_SUFFIXES)}".strip()
    slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:20] or "tenant"
    out: JSON = {
        "id": customer_id,
        "companyProfile": {
            "tenantId": customer_id,
            "domain": f"{slug}{rng.randrange(10_000)}.onmicrosoft.com",
            "companyName": name,
            "attributes": {"objectType": "CustomerCompanyProfile"},
        },
        "relationshipToPartner": "reseller" if rng.random() < 0.85 else "advisor",
    }
    if rng.random() < 0.7:
        culture, country, city = rng.choice(_LOCALES)
        out["billingProfile"] = {
            "id": _guid(rng),
            "email": f"billing@{slug}.example",
            "culture": culture,
            "language": culture[:2],
            "companyName": name,
            "defaultAddress": {"country": country, "city": city, "postalCode": "98052"},
            "attributes": {"objectType": "CustomerBillingProfile"},
        }
    out["links"] = {"self": link(f"/customers/{customer_id}")}
    out["attributes"] = {"objectType": "Customer"}
    _real_customer(out)
    return out


def _real_customer(out: JSON) -> None:
    """Fields of Microsoft's Customer model, on a share chosen by a hash of the id (no draws)."""
    cid = out["id"]
    h = zlib.crc32(cid.encode())
    profile = out["companyProfile"]
    profile["links"] = {"self": link(f"/customers/{cid}/profiles/company")}
    if h % 3 == 0:
        out["allowDelegatedAccess"] = True
    if h % 5 == 0:
        out["customDomains"] = [profile["domain"].replace(".onmicrosoft.com", ".example")]
    if h % 7 == 0:
        out["associatedPartnerId"] = str(4_000_000 + h % 1_000_000)
        profile["organizationRegistrationNumber"] = f"REG-{h % 100_000:05d}"


def orders(
    seed: int, index: int, customer_id: str, resellers: list[str], *, include_price: bool
) -> list[JSON]:
    """Every order of generated customer ``index``; the same draws with or without prices.

    About 15% of customers have no orders, 77% have 1-6, 8% have 7-25, and one in 50 (indexes
    1, 51, 101, ...) has 45-90, so even a small fake holds a customer with several pages.
    """
    rng = random.Random(f"{seed}/orders/{index}")
    r = rng.random()
    if index % 50 == 1:
        count = rng.randint(45, 90)
    elif r < 0.15:
        count = 0
    elif r < 0.92:
        count = rng.randint(1, 6)
    else:
        count = rng.randint(7, 25)
    return [_order(rng, customer_id, resellers, include_price) for _ in range(count)]


def _order(rng: random.Random, cid: str, resellers: list[str], include_price: bool) -> JSON:
    oid = _guid(rng) if rng.random() < 0.5 else "".join(rng.choices(_ID_CHARS, k=33))
    code, symbol = rng.choice(_CURRENCIES)
    count = rng.choices((1, 2, 3, 4, 5), (50, 25, 12, 8, 5))[0]
    lines = [_line_item(rng, cid, n, code, resellers, include_price) for n in range(count)]
    order: JSON = {
        "id": oid,
        "alternateId": f"{rng.getrandbits(48):012x}",
        "referenceCustomerId": cid,
        "billingCycle": rng.choices(_CYCLES, _CYCLE_WEIGHTS)[0],
        "currencyCode": code,
        "currencySymbol": symbol,
        "lineItems": [item for item, _ in lines],
        "creationDate": _date(rng),
        "status": rng.choices(("completed", "pending", "cancelled"), (80, 12, 8))[0],
        "transactionType": rng.choices(
            ("UserPurchase", "SystemPurchase", "SystemBilling"), (85, 8, 7)
        )[0],
    }
    if rng.random() < 0.8 and include_price:
        order["totalPrice"] = round(sum(extended for _, extended in lines), 2)
    base = f"/customers/{cid}/orders/{oid}"
    order["links"] = {"self": link(base)}
    if rng.random() < 0.7:
        order["links"] = {
            "provisioningStatus": link(f"{base}/provisioningstatus"),
            "self": link(base),
        }
    etag = msgspec.json.encode({"id": oid, "version": rng.randint(1, 5)})
    order["attributes"] = {"etag": base64.b64encode(etag).decode(), "objectType": "Order"}
    extra = rng.random()
    if extra < 0.03:
        order["partnerCenterExtras"] = {"nested": {"flag": True, "tags": ["beta", "ü"]}}
    elif extra < 0.05:
        order["fulfillmentRegion"] = rng.choice(("emea", "amer", "apac"))
    _real_traffic(order)
    return order


def _capital(value: str) -> str:
    """``new`` -> ``New``, ``one_time`` -> ``OneTime``, ``addQuantity`` -> ``AddQuantity``."""
    return "".join(part[:1].upper() + part[1:] for part in value.split("_"))


def _real_traffic(order: JSON) -> None:
    """Shapes of recorded sessions (reference, "Real traffic") on a share of the orders.

    Chosen by a hash of the order id rather than by new draws, so every seeded value stays as it
    was: capitalised enum values (``"New"``, ``"Monthly"``, ``"Completed"``), no ``links``,
    line items with ``"links": {}`` or ``"termDuration": ""``, ``creationDate`` with 6 digits
    and ``Z`` or 2 digits and ``+00:00`` (besides the 7-digit ``Z`` and 3-digit offset forms),
    ``partnerOnRecordAttestationAccepted`` with a ``patchOperation`` link and a ``client``,
    and ``additionalPartnerIdsOnRecord``.
    """
    h = zlib.crc32(order["id"].encode())
    items = order["lineItems"]
    if h % 5 == 0:
        order["billingCycle"] = _capital(order["billingCycle"])
        order["status"] = _capital(order["status"])
        for item in items:
            item["transactionType"] = _capital(item["transactionType"])
    if (h >> 3) % 6 == 0:
        del order["links"]
    if (h >> 6) % 4 == 0:
        for item in items:
            item["links"] = {}
    if (h >> 9) % 5 == 0:
        items[0]["termDuration"] = ""
    date = order["creationDate"]
    if date.endswith("Z") and (form := (h >> 12) % 3):
        order["creationDate"] = date[:26] + "Z" if form == 1 else date[:22] + "+00:00"
    if (h >> 15) % 8 == 0:
        order["partnerOnRecordAttestationAccepted"] = True
        order["client"] = {"deviceFamily": "desktop", "marketplaceCountry": "US", "name": "PC"}
        if "links" in order:
            own = order["links"]["self"]["uri"]
            order["links"]["patchOperation"] = {"uri": own, "method": "PATCH", "headers": []}
    if (h >> 18) % 4 == 0:
        for item in items:
            if "partnerIdOnRecord" in item:
                item["additionalPartnerIdsOnRecord"] = [str(5_000_000 + h % 1_000_000)]


def _line_item(
    rng: random.Random, cid: str, number: int, currency: str, resellers: list[str], with_price: bool
) -> tuple[JSON, float]:
    name, product, sku, offer, unit = rng.choice(_PRODUCTS)
    subscription = _guid(rng).upper() if rng.random() < 0.85 else None
    term = rng.choice(("P1M", "P1Y", "P1Y", "P3Y"))
    quantity = rng.choice((1, 1, 1, 2, 5, 10, 25, 100))
    item: JSON = {"lineItemNumber": number, "offerId": offer}
    if subscription:
        item["subscriptionId"] = subscription
    item["friendlyName"] = name
    item["quantity"] = quantity
    item["termDuration"] = term
    item["transactionType"] = rng.choices(_LINE_TRANSACTIONS, _LINE_WEIGHTS)[0]
    if rng.random() < 0.25:
        item["partnerIdOnRecord"] = rng.choice(resellers)
    discounted = round(unit * rng.choice((1.0, 0.95, 0.9, 0.85)), 2)
    prorated = round(discounted * rng.choice((1.0, 1.0, 0.5, 0.2333)), 2)
    extended = round(prorated * quantity, 2)
    if with_price:
        item["pricing"] = {
            "listPrice": unit,
            "discountedPrice": discounted,
            "proratedPrice": prorated,
            "price": prorated,
            "extendedPrice": extended,
        }
    if rng.random() < 0.15:
        item["renewsTo"] = {"termDuration": term}
    if rng.random() < 0.03:
        item["purchaseCommitment"] = {
            "amount": extended * 12,
            "currency": currency,
            "grain": "monthly",
        }
    sku_uri = f"/products/{product}/skus/{sku}" + ("?country=US" if ":" in offer else "")
    links = {"sku": link(sku_uri)}
    if subscription:
        links["subscription"] = link(f"/customers/{cid}/subscriptions/{subscription}")
        links["provisioningStatus"] = link(f"/subscriptions/{subscription}/provisioningstatus")
    item["links"] = links
    return item, extended


def _date(rng: random.Random) -> str:
    """A creationDate in one of the two real forms: 7 digits and Z, or 3 digits and an offset."""
    at = _EPOCH + timedelta(seconds=rng.randrange(9 * 365 * 86_400))
    if rng.random() < 0.6:
        return f"{at:%Y-%m-%dT%H:%M:%S}.{rng.randrange(10**7):07d}Z"
    hours = rng.choice((-8, -7, -5, 0, 1, 2, 9))
    return (
        f"{at + timedelta(hours=hours):%Y-%m-%dT%H:%M:%S}.{rng.randrange(1000):03d}{hours:+03d}:00"
    )


def sample_customer() -> JSON:
    """The customer of Microsoft's reference samples."""
    cid = SAMPLE_CUSTOMER_ID
    return {
        "id": cid,
        "companyProfile": {
            "tenantId": cid,
            "domain": "contososample.onmicrosoft.com",
            "companyName": "Contoso Sample, Ltd",
            "attributes": {"objectType": "CustomerCompanyProfile"},
        },
        "relationshipToPartner": "reseller",
        "links": {"self": link(f"/customers/{cid}")},
        "attributes": {"objectType": "Customer"},
    }


def sample_orders() -> list[JSON]:
    """Fresh copies of the orders of seeds 001 (both, the second repaired) and 003, in that order.

    Order: the first order of the 001 page, the 003 order, the second order of the 001 page.
    """
    base = f"/customers/{SAMPLE_CUSTOMER_ID}"
    first, second, third = (
        "9qg-ErcO-4MPbPqq_3MIQaS7bn8W6HfG1",
        "YxH1q4KScfvfkJQjgRI8QY1DznnUWZTH1",
        "eeba9d00-7b46-443a-917e-22887a8fc993",
    )
    sub = "DB8C695B-1C3C-4C55-B697-771503DD46BF"
    aad = "E59159FC-6F67-4599-B3CB-17FF4020F643"

    def reserved(offer: str, name: str) -> JSON:
        product, sku, _ = offer.split(":")
        return {
            "lineItemNumber": 0,
            "offerId": offer,
            "friendlyName": name,
            "quantity": 1,
            "links": {"sku": link(f"/products/{product}/skus/{sku}?country=US")},
        }

    def order_links(oid: str, *, provisioning: bool = True) -> JSON:
        own = link(f"{base}/orders/{oid}")
        if not provisioning:
            return {"self": own}
        return {"provisioningStatus": link(f"{base}/orders/{oid}/provisioningstatus"), "self": own}

    def head(oid: str, cycle: str) -> JSON:
        return {"id": oid, "referenceCustomerId": SAMPLE_CUSTOMER_ID, "billingCycle": cycle}

    return [
        head(first, "one_time")
        | {
            "currencyCode": "USD",
            "lineItems": [
                reserved(
                    "DZH318Z0BQ4B:000Z:DZH318Z0DSPL",
                    "Reserved_VM_Instance_Standard_D1_AP_East_1_Year",
                )
            ],
            "creationDate": "2018-03-15T02:17:15.6455674Z",
            "status": "pending",
            "links": order_links(first),
            "attributes": {"objectType": "Order"},
        },
        head(second, "one_time")
        | {
            "currencyCode": "USD",
            "currencySymbol": "$",
            "lineItems": [
                reserved(
                    "DZH318Z0BQ4Z:002L:DZH318Z0CMNP",
                    "Reserved_VM_Instance_Standard_NC12_AU_East_1_Year",
                )
            ],
            "creationDate": "2018-03-13T22:49:54.3396949Z",
            "status": "completed",
            "links": order_links(second),
            "attributes": {"objectType": "Order"},
        },
        head(third, "monthly")
        | {
            "currencyCode": "USD",
            "lineItems": [
                {
                    "lineItemNumber": 0,
                    "offerId": aad,
                    "subscriptionId": sub,
                    "friendlyName": "Azure Active Directory Premium P2",
                    "quantity": 1,
                    "links": {
                        "subscription": link(f"{base}/subscriptions/{sub}"),
                        "sku": link(f"/products/84A661C4-E949-4BD2-A560-ED7766FCAF2B/skus/{aad}"),
                        "provisioningStatus": link(f"/subscriptions/{sub}/provisioningstatus"),
                    },
                }
            ],
            "creationDate": "2018-03-06T17:37:05.253-08:00",
            "status": "completed",
            "links": order_links(third, provisioning=False),
            "attributes": {
                "etag": "eyJpZCI6ImVlYmE5ZDAwLTdiNDYtNDQzYS05MTdlLTIyODg3YThmYzk5MyIs"
                "InZlcnNpb24iOjF9",
                "objectType": "Order",
            },
        },
    ]
