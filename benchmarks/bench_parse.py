"""Structured output parsing: `Format.parse` against a hand-written floor and Pydantic, as ratios.

The response model is an `Order` three levels deep (Order -> LineItem -> Product, Order ->
Customer -> Address), 32 fields in all, mixing str/int/float/bool, Optional, list, Enum and
Literal; the reply carries five line items.

1. Parsing the reply's JSON text into the dataclasses:
   - ours: `format_for(Order).parse(text)` (json.loads, then the compiled structurer);
   - floor: `json.loads` plus a hand-written constructor building the same dataclasses, the
     least any library could do;
   - pydantic: `Order.model_validate_json(text)` on the equivalent `BaseModel` classes.
2. The same from already-decoded JSON data (what each does beyond `json.loads`): ours
   `fmt.structure(data)`, the hand-written constructors, and Pydantic's `model_validate(data)`.
   Pydantic decodes JSON in Rust, faster than `json.loads` alone; this line compares the part
   both libraries write themselves.
3. `format_for(Order)` once built (the cached lookup every call makes), against a plain dict lookup.

Rounds alternate between the contestants so machine noise hits all of them; each figure is the
fastest round (min of N), and ratios are taken within this run. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import time
from collections.abc import Callable
from typing import Any, Literal

import pydantic
from mirascope.llm.response_models import format_for

# --- The response model: dataclasses ---------------------------------------------------------


class Category(enum.Enum):
    BOOKS = "books"
    GAMES = "games"
    TOOLS = "tools"


class Status(enum.Enum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"


@dataclasses.dataclass
class Address:
    street: str
    city: str
    postcode: str
    country: str
    region: str | None = None


@dataclasses.dataclass
class Customer:
    id: int
    name: str
    email: str
    address: Address
    vip: bool = False
    phone: str | None = None


@dataclasses.dataclass
class Product:
    id: int
    name: str
    category: Category
    weight_kg: float
    tags: list[str]


@dataclasses.dataclass
class LineItem:
    product: Product
    quantity: int
    unit_price: float
    gift: bool = False
    discount: float | None = None


@dataclasses.dataclass
class Order:
    id: int
    number: str
    status: Status
    channel: Literal["web", "store", "phone"]
    customer: Customer
    items: list[LineItem]
    subtotal: float
    total: float
    paid: bool
    coupon: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)


# --- The same model in Pydantic -------------------------------------------------------------


class PAddress(pydantic.BaseModel):
    street: str
    city: str
    postcode: str
    country: str
    region: str | None = None


class PCustomer(pydantic.BaseModel):
    id: int
    name: str
    email: str
    address: PAddress
    vip: bool = False
    phone: str | None = None


class PProduct(pydantic.BaseModel):
    id: int
    name: str
    category: Category
    weight_kg: float
    tags: list[str]


class PLineItem(pydantic.BaseModel):
    product: PProduct
    quantity: int
    unit_price: float
    gift: bool = False
    discount: float | None = None


class POrder(pydantic.BaseModel):
    id: int
    number: str
    status: Status
    channel: Literal["web", "store", "phone"]
    customer: PCustomer
    items: list[PLineItem]
    subtotal: float
    total: float
    paid: bool
    coupon: str | None = None
    notes: list[str] = []


# --- The floor: json.loads and constructors by hand ------------------------------------------


def floor_parse(text: str) -> Order:
    return floor_build(json.loads(text))


def floor_build(d: dict[str, Any]) -> Order:
    c = d["customer"]
    a = c["address"]
    items: list[LineItem] = []
    for i in d["items"]:
        p = i["product"]
        product = Product(p["id"], p["name"], Category(p["category"]), float(p["weight_kg"]), list(p["tags"]))
        items.append(LineItem(product, i["quantity"], float(i["unit_price"]), i.get("gift", False), i.get("discount")))
    address = Address(a["street"], a["city"], a["postcode"], a["country"], a.get("region"))
    customer = Customer(c["id"], c["name"], c["email"], address, c.get("vip", False), c.get("phone"))
    return Order(
        d["id"],
        d["number"],
        Status(d["status"]),
        d["channel"],
        customer,
        items,
        float(d["subtotal"]),
        float(d["total"]),
        d["paid"],
        d.get("coupon"),
        list(d.get("notes", ())),
    )


def payload() -> str:
    items = [
        {
            "product": {
                "id": 100 + n,
                "name": f"Product {n}",
                "category": ["books", "games", "tools"][n % 3],
                "weight_kg": 0.25 * (n + 1),
                "tags": ["new", "sale"][: n % 3],
            },
            "quantity": n + 1,
            "unit_price": 9.99 + n,
            "gift": n == 2,
            "discount": 0.1 if n % 2 else None,
        }
        for n in range(5)
    ]
    order = {
        "id": 42,
        "number": "A-000042",
        "status": "paid",
        "channel": "web",
        "customer": {
            "id": 7,
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "address": {"street": "12 St James's Sq", "city": "London", "postcode": "SW1Y 4JH", "country": "GB"},
            "vip": True,
            "phone": None,
        },
        "items": items,
        "subtotal": 74.95,
        "total": 89.94,
        "paid": True,
        "coupon": "SPRING",
        "notes": ["leave at the door"],
    }
    return json.dumps(order)


def _per_call(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def _fastest(contestants: dict[str, Callable[[], object]], rounds: int, n: int) -> dict[str, float]:
    for fn in contestants.values():
        _per_call(fn, n)  # warm up: caches, generated hooks
    best = dict.fromkeys(contestants, float("inf"))
    for _ in range(rounds):
        for name, fn in contestants.items():
            best[name] = min(best[name], _per_call(fn, n))
    return best


def bench_parse(rounds: int, n: int) -> None:
    text = payload()
    fmt = format_for(Order)
    ours = fmt.parse(text)
    assert ours == floor_parse(text), "ours and the floor disagree"
    assert POrder.model_validate_json(text).model_dump() == dataclasses.asdict(ours), "pydantic disagrees"

    best = _fastest(
        {
            "floor": lambda: floor_parse(text),
            "ours": lambda: fmt.parse(text),
            "pydantic": lambda: POrder.model_validate_json(text),
        },
        rounds,
        n,
    )
    print(f"parse a 3-level, 32-field Order ({len(text)} bytes of JSON; fastest of {rounds} rounds of {n})")
    for name, label in (
        ("floor", "floor: json.loads + constructors"),
        ("ours", "ours: format_for(Order).parse"),
        ("pydantic", "pydantic: model_validate_json"),
    ):
        print(f"  {label:<36} {best[name] * 1e6:8.2f} µs")
    print(f"  ours / floor      {best['ours'] / best['floor']:6.3f}x  (target <= 2)")
    print(f"  ours / pydantic   {best['ours'] / best['pydantic']:6.3f}x  (target < 1)")


def bench_structure(rounds: int, n: int) -> None:
    text = payload()
    data = json.loads(text)
    fmt = format_for(Order)
    assert fmt.structure(data, text) == floor_build(data)
    best = _fastest(
        {
            "floor": lambda: floor_build(data),
            "ours": lambda: fmt.structure(data, text),
            "pydantic": lambda: POrder.model_validate(data),
        },
        rounds,
        n,
    )
    print("the same from decoded JSON data (no json.loads)")
    for name, label in (
        ("floor", "floor: constructors"),
        ("ours", "ours: format_for(Order).structure"),
        ("pydantic", "pydantic: model_validate"),
    ):
        print(f"  {label:<36} {best[name] * 1e6:8.2f} µs")
    print(f"  ours / floor      {best['ours'] / best['floor']:6.3f}x")
    print(f"  ours / pydantic   {best['ours'] / best['pydantic']:6.3f}x")


def bench_lookup(rounds: int, n: int) -> None:
    format_for(Order)
    plain: dict[object, object] = {Order: object()}
    best = _fastest({"dict": lambda: plain.get(Order), "format_for": lambda: format_for(Order)}, rounds, n)
    print("format_for(Order) once built, against a plain dict lookup (both through a lambda)")
    print(f"  dict.get           {best['dict'] * 1e9:8.1f} ns")
    print(f"  format_for         {best['format_for'] * 1e9:8.1f} ns  ({best['format_for'] / best['dict']:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--n", type=int, default=500, help="parses per round")
    args = parser.parse_args()
    bench_parse(args.rounds, args.n)
    print()
    bench_structure(args.rounds, args.n)
    print()
    bench_lookup(args.rounds, args.n * 200)


if __name__ == "__main__":
    main()
