"""Deterministic sample landing data for the lakehouse.

The pipeline, its tests and the demo all need a landing zone that looks like a small shop's raw
exports: a clickstream with messy timestamps, order-line CSVs that are re-sent, weekly inventory
workbooks and an experiment catalogue. This module writes one from a seed alone, so that every
run (and every machine) sees byte-identical files and the gold numbers can be checked against an
independent implementation of the METRICS data contract.

Besides good data it plants, exactly once each, the bad rows the silver layer must quarantine and
returns them in :class:`GenerationSummary`, so tests can assert "quarantined exactly these".

Only the standard library and openpyxl are used: generating data must not need a JVM.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import hashlib
import io
import itertools
import json
import math
import random
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from lakehouse.contract import ORDER_COLUMNS

EVENT_TYPES: tuple[str, ...] = (
    "page_view",
    "product_view",
    "add_to_cart",
    "remove_from_cart",
    "begin_checkout",
    "purchase",
    "search",
)
ORDER_HEADER: tuple[str, ...] = ORDER_COLUMNS  # the landing CSV's header is the contract's order columns
PRODUCT_HEADER: tuple[str, ...] = ("product_id", "name", "category", "brand", "list_price", "cost")
STOCK_HEADER: tuple[str, ...] = ("snapshot_date", "product_id", "warehouse", "on_hand", "reorder_point")
WAREHOUSES: tuple[str, ...] = ("north", "south")
N_PRODUCTS = 60
INVENTORY_EVERY_DAYS = 7

CHECKOUT_EXPERIMENT = "exp_checkout_button"
LAYOUT_EXPERIMENT = "exp_recs_layout"

# Funnel shape. The checkout experiment's treatment lifts checkout -> purchase; that planted effect is
# what experiment_results must find.
P_SEARCH = 0.35
P_VIEW_PRODUCT = 0.62
P_ADD_TO_CART = 0.40
# Users' buying intent (a multiplier of P_ADD_TO_CART and P_BEGIN_CHECKOUT), drawn uniformly:
# from window shoppers to buyers who check out whatever they put in the cart.
_INTENTS = (0.1, 0.3, 0.8, 1.6, 2.5)
P_REMOVE_FROM_CART = 0.15
P_BEGIN_CHECKOUT = 0.60
P_PURCHASE = {"control": 0.70, "treatment": 0.88}
P_PURCHASE_REFIRED = 0.01  # a purchase event fired twice (new event_id, same order_id)

P_GUEST_ORDER = 0.03
P_CANCELLED_ORDER = 0.04
P_RETURNED_LINE = 0.03
DUPLICATE_EVENT_SHARE = 0.01
RESENT_ORDER_LINE_SHARE = 0.01
EXACT_DUPLICATE_ORDER_ROWS = 4

# Fixed time for zip members, so xlsx files are byte-identical across runs (properties use the snapshot).
_ZIP_DATE_TIME = (2026, 1, 1, 0, 0, 0)

# Session start hour weights for hours 0..22. Regular sessions never start at 23h so that only the
# deliberately late sessions cross UTC midnight (and the last day never spills past the range).
_HOUR_WEIGHTS: tuple[int, ...] = (2, 1, 1, 1, 1, 2, 3, 5, 6, 7, 8, 9, 10, 9, 8, 8, 8, 9, 10, 11, 11, 10, 7)
_P_LATE_SESSION = 0.01

_COUNTRIES: tuple[tuple[str, int], ...] = (
    ("US", 30), ("GB", 12), ("DE", 12), ("FR", 9), ("NL", 6), ("ES", 6),
    ("IT", 5), ("IN", 5), ("SE", 4), ("PL", 4), ("BR", 4), ("JP", 3),
)  # fmt: skip
_DEVICES: tuple[tuple[str, int], ...] = (("mobile", 55), ("desktop", 35), ("tablet", 10))
# UTC offsets in minutes (some non-whole-hour ones); the hour-only spelling "+05" needs a whole hour.
_OFFSETS: tuple[int, ...] = (120, -300, 330, -210, 60, -480, 540, 600, -420, 345, 300, -180)
_SEARCH_QUERIES: tuple[str, ...] = (
    "wireless headphones", "running shoes", "coffee grinder", "crème brûlée torch", "yoga mat",
    "desk lamp", "lego", "garden hose", "phone case", "smørrebrød board", "espresso", "backpack",
)  # fmt: skip
_PAGES: tuple[str, ...] = ("/", "/home", "/deals", "/new", "/category/home", "/category/electronics", "/help")
_CATEGORIES: dict[str, tuple[str, ...]] = {
    "electronics": ("Headphones", "Speaker", "Charger", "Power Bank", "Webcam", "Keyboard"),
    "home": ("Desk Lamp", "Throw Blanket", "Vase", "Wall Clock", "Candle Set"),
    "kitchen": ("Coffee Grinder", "Espresso Cups", "Chef's Knife", "Crème Brûlée Torch", "Kettle"),
    "sports": ("Yoga Mat", "Running Shoes", "Water Bottle", "Resistance Bands"),
    "toys": ("Building Blocks", "Puzzle 1000", "Plush Bear", "Kite"),
    "books": ("Cookbook", "Travel Guide", "Notebook A5"),
    "garden": ("Garden Hose", "Pruning Shears", "Plant Pot"),
}
_ADJECTIVES: tuple[str, ...] = ("Classic", "Pro", "Mini", "Eco", "Deluxe", "Smart", "Nordic", "Urban")
_BRANDS: tuple[str, ...] = ("Acme", "Nordlys", "Kōbō", "Verde", "Bravo", "Lumen", "Forge", "Ostara")


@dataclass(frozen=True)
class PlantedFault:
    """One deliberately bad landing record that silver must quarantine with ``reason``.

    ``key`` is the ``event_id`` or ``"order_id|line_no"`` when the record has a usable id, else
    ``"<landing-relative file>:<1-based line number>"`` (missing ids, malformed lines).
    """

    source: str
    key: str
    file: str
    reason: str


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate_landing` wrote, so tests can check the pipeline against known truth."""

    landing: Path
    files: list[str]
    events: int
    order_lines: int
    products: int
    faults: list[PlantedFault]
    duplicate_event_ids: list[str]
    resent_order_lines: list[str]
    duplicate_order_rows: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Product:
    product_id: str
    name: str
    category: str | None
    brand: str
    list_price: float
    cost: float


@dataclass
class _User:
    user_id: str
    country: str
    device: str
    other_device: str
    variants: dict[str, str]
    # A cookie reset: after the day of their first checkout-experiment exposure, the user is shown the
    # other variant, so experiment_results' "variant of first exposure" rule has something to do.
    flips_checkout: bool
    # Buying intent, the same before and after exposure: it scales the chances that a product view
    # becomes a cart and a cart a checkout, so a user's pre-exposure purchases predict the post-exposure ones (the
    # correlation CUPED uses to narrow experiment confidence intervals).
    intent: float = 1.0
    first_checkout_day: date | None = None


@dataclass
class _World:
    """Everything good, before duplicates and faults are layered on by :func:`generate_landing`."""

    start: date
    days: int
    experiments: list[dict[str, Any]]
    catalogues: list[tuple[date, list[_Product]]]
    stock: dict[date, list[tuple[date, str, str, int, int]]]
    events_by_day: dict[date, list[dict[str, Any]]]
    orders_by_day: dict[date, list[list[str]]]
    event_instants: dict[str, datetime]


# ---------------------------------------------------------------------------------------------
# timestamps


class _Weighted:
    """A weighted choice with precomputed cumulative weights.

    ``draw`` is what ``rng.choices(values, weights)[0]`` computes (same single ``random()`` draw,
    same bisection) without rebuilding the cumulative weights on every one of ~40k calls.
    """

    def __init__(self, values: Any, weights: Any) -> None:
        self.values = tuple(values)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1] + 0.0
        self.hi = len(self.cum) - 1

    def draw(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect(self.cum, rng.random() * self.total, 0, self.hi)]


_HOUR = _Weighted(range(len(_HOUR_WEIGHTS)), _HOUR_WEIGHTS)
_N_VIEWS = _Weighted(range(1, 9), (22, 22, 18, 13, 10, 7, 5, 3))
_N_ADD = _Weighted((1, 2, 3, 4), (50, 30, 13, 7))
_QUANTITY = _Weighted((1, 2, 3, 4, 5), (55, 25, 10, 6, 4))
_ORDER_STATUS = _Weighted(("placed", "paid", "shipped", "delivered"), (15, 35, 25, 25))
_DISCOUNT = _Weighted(("", "0.1", "0.25"), (85, 10, 5))
_COUNTRY = _Weighted((c for c, _ in _COUNTRIES), (w for _, w in _COUNTRIES))
_DEVICE = _Weighted((d for d, _ in _DEVICES), (w for _, w in _DEVICES))


def _clock_text(ts: datetime, sep: str, fraction: bool = True) -> str:
    """``YYYY-MM-DD<sep>hh:mm:ss[.ffffff]`` of a naive UTC/local clock reading.

    ``isoformat`` is implemented in C and far faster than strftime; the fraction is left out
    when it is zero (as isoformat does) or not wanted.
    """
    return ts.isoformat(sep, "microseconds" if fraction and ts.microsecond else "seconds")


def _fmt_offset(minutes: int, style: str) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    if style == "colon":
        return f"{sign}{hours:02d}:{mins:02d}"
    if style == "compact":
        return f"{sign}{hours:02d}{mins:02d}"
    return f"{sign}{hours:02d}"


def _iso_utc(ts: datetime, sep: str = "T", fraction: bool = True, zulu: bool = True) -> str:
    return _clock_text(ts, sep, fraction) + ("Z" if zulu else "")


def _iso_offset(ts: datetime, minutes: int, style: str, sep: str = "T") -> str:
    local = ts + timedelta(minutes=minutes)
    return _clock_text(local, sep) + _fmt_offset(minutes, style)


def _render_event_ts(rng: random.Random, ts: datetime) -> tuple[str, datetime]:
    """Render an instant the way sloppy clients do; returns the text and the instant it denotes.

    Most are ``...T14:05:09.123456Z``; ~10% carry an offset (several spellings, and near midnight
    the local date differs from the UTC date), a few use a space, drop the fraction or keep
    milliseconds only. Truncation changes the instant, so the caller must use the returned one.
    """
    r = rng.random()
    if r < 0.10:
        minutes = rng.choice(_OFFSETS)
        styles = ("colon", "compact", "hours") if minutes % 60 == 0 else ("colon", "compact")
        if rng.random() < 0.2:
            ts = ts.replace(microsecond=0)
        return _iso_offset(ts, minutes, rng.choice(styles)), ts
    if r < 0.12:
        return _iso_utc(ts, sep=" ", zulu=rng.random() < 0.5), ts
    if r < 0.14:
        ts = ts.replace(microsecond=0)
        return _iso_utc(ts, fraction=False), ts
    if r < 0.15:
        ts = ts.replace(microsecond=ts.microsecond // 1000 * 1000)
        text = _clock_text(ts, "T", fraction=False) + f".{ts.microsecond // 1000:03d}Z"
        return text, ts
    return _iso_utc(ts), ts


def _render_order_ts(rng: random.Random, ts: datetime) -> str:
    """Orders mostly use the export's plain UTC form; some systems add an offset."""
    if rng.random() < 0.12:
        return _iso_offset(ts, rng.choice(_OFFSETS), "colon")
    return _iso_utc(ts, sep=" ", zulu=False)


def _odd_case(rng: random.Random, event_type: str) -> str:
    if rng.random() < 0.5:
        return event_type.upper()
    return "_".join(part.capitalize() for part in event_type.split("_"))


# ---------------------------------------------------------------------------------------------
# reference data


def _experiments(start: date, days: int) -> list[dict[str, Any]]:
    """Two experiments; windows are clamped so they stay inside short generated ranges."""
    last = start + timedelta(days=days - 1)

    def window(first_offset: int, last_offset_from_end: int) -> tuple[str, str]:
        s = min(start + timedelta(days=first_offset), last)
        e = max(s, last - timedelta(days=last_offset_from_end))
        return s.isoformat(), e.isoformat()

    # Both start a few days in, so users have a pre-exposure week for CUPED's covariate.
    s1, e1 = window(4, 2)
    s2, e2 = window(5, 0)
    return [
        {
            "experiment_id": CHECKOUT_EXPERIMENT,
            "name": "One-click checkout button",
            "variants": ["control", "treatment"],
            "allocation": {"control": 0.5, "treatment": 0.5},
            "start_date": s1,
            "end_date": e1,
        },
        {
            "experiment_id": LAYOUT_EXPERIMENT,
            "name": "Recommendations layout",
            "variants": ["control", "grid", "carousel"],
            "allocation": {"control": 0.34, "grid": 0.33, "carousel": 0.33},
            "start_date": s2,
            "end_date": e2,
        },
    ]


def assign_variant(seed: int, experiment: dict[str, Any], user_id: str) -> str:
    """Deterministic bucketing: a hash of (seed, experiment, user) mapped onto the allocation.

    A hash rather than an RNG draw keeps a user's variant stable whatever else changes in the
    generator, as a real assignment service would.
    """
    digest = hashlib.sha256(f"{seed}:{experiment['experiment_id']}:{user_id}".encode()).hexdigest()
    u = int(digest[:15], 16) / 16**15
    allocation: dict[str, float] = experiment["allocation"]
    total = sum(allocation.values())
    cumulative = 0.0
    for variant in experiment["variants"]:
        cumulative += allocation[variant] / total
        if u < cumulative:
            return str(variant)
    return str(experiment["variants"][-1])


def _catalogues(rng: random.Random, start: date, days: int) -> list[tuple[date, list[_Product]]]:
    """One product list per inventory workbook; each later workbook renames/reprices 2 products."""
    categories = list(_CATEGORIES)
    no_category = set(rng.sample(range(N_PRODUCTS), 2))
    products: list[_Product] = []
    for i in range(N_PRODUCTS):
        category = categories[i % len(categories)]
        noun = _CATEGORIES[category][(i // len(categories)) % len(_CATEGORIES[category])]
        price = math.floor(rng.uniform(4, 260)) + 0.99
        products.append(
            _Product(
                product_id=f"p{i + 1:04d}",
                name=f"{rng.choice(_ADJECTIVES)} {noun}",
                category=None if i in no_category else category,
                brand=rng.choice(_BRANDS),
                list_price=price,
                cost=round(price * rng.uniform(0.35, 0.7), 2),
            )
        )
    catalogues = [(start, products)]
    for offset in range(INVENTORY_EVERY_DAYS, days, INVENTORY_EVERY_DAYS):
        products = list(products)
        renamed, repriced = rng.sample(range(N_PRODUCTS), 2)
        p = products[renamed]
        products[renamed] = replace(p, name=f"{p.name} (2nd gen)", list_price=round(p.list_price * 1.1, 2))
        p = products[repriced]
        products[repriced] = replace(p, list_price=round(p.list_price * 0.8, 2))
        catalogues.append((start + timedelta(days=offset), products))
    return catalogues


def _catalogue_on(catalogues: list[tuple[date, list[_Product]]], day: date) -> list[_Product]:
    current = catalogues[0][1]
    for valid_from, products in catalogues:
        if valid_from <= day:
            current = products
    return current


# ---------------------------------------------------------------------------------------------
# the good world


class _Builder:
    """Simulates users and sessions; one instance per :func:`_build` call."""

    def __init__(self, days: int, users: int, seed: int, start: date) -> None:
        self.days = days
        self.seed = seed
        self.start = start
        self.rng = random.Random(f"{seed}:sessions")
        self.experiments = _experiments(start, days)
        self.windows = {
            e["experiment_id"]: (date.fromisoformat(e["start_date"]), date.fromisoformat(e["end_date"]))
            for e in self.experiments
        }
        self.catalogues = _catalogues(random.Random(f"{seed}:catalog"), start, days)
        prng = random.Random(f"{seed}:popularity")
        ranks = list(range(N_PRODUCTS))
        prng.shuffle(ranks)
        popularity = [1.0 / (rank + 1) ** 0.9 for rank in ranks]
        # A promotion on one day makes one product spike (for product_daily.sales_spike).
        self.promo_day = start + timedelta(days=min(9, days - 1))
        promo_product = 6  # p0007
        self.popularity = _Weighted(range(N_PRODUCTS), popularity)
        popularity[promo_product] *= 12
        self.promo_popularity = _Weighted(range(N_PRODUCTS), popularity)
        self.users = self._users(random.Random(f"{seed}:users"), users)
        self.order_seq = 0
        self.events: list[tuple[date, datetime, str, int, dict[str, Any]]] = []
        self.order_rows: list[tuple[datetime, list[str]]] = []

    def _users(self, rng: random.Random, n: int) -> list[_User]:
        out = []
        intents = random.Random(f"{self.seed}:intent")  # its own stream: the other draws stay put
        for i in range(1, n + 1):
            user_id = f"u{i:05d}"
            device = _DEVICE.draw(rng)
            out.append(
                _User(
                    user_id=user_id,
                    country=_COUNTRY.draw(rng),
                    device=device,
                    other_device=rng.choice([d for d in _DEVICE.values if d != device]),
                    variants={e["experiment_id"]: assign_variant(self.seed, e, user_id) for e in self.experiments},
                    flips_checkout=rng.random() < 0.01,
                    intent=intents.choice(_INTENTS),
                )
            )
        return out

    def _session_plan(self) -> list[tuple[datetime, int, int]]:
        """(start instant, user index, day index) of every session, in start order.

        Users come in three kinds: one-off visitors, occasional returners and loyal regulars, so
        that both new and returning users (and customers) exist on most days.
        """
        rng = random.Random(f"{self.seed}:plan")
        plan: list[tuple[datetime, int, int]] = []
        for ui in range(len(self.users)):
            kind = rng.random()
            if kind < 0.30:
                n = 1
            elif kind < 0.70:
                n = rng.randint(2, 6)
            else:
                n = rng.randint(6, 18)
            # Uniform over the range, so daily traffic is flat and new users thin out over time.
            day_indices = [rng.randrange(self.days) for _ in range(n)]
            for di in day_indices:
                midnight = datetime.combine(self.start + timedelta(days=di), datetime.min.time())
                if di < self.days - 1 and rng.random() < _P_LATE_SESSION:
                    begin = midnight + timedelta(days=1, seconds=-rng.randint(60, 420))
                else:
                    hour = _HOUR.draw(rng)
                    begin = midnight + timedelta(hours=hour, seconds=rng.randrange(3600))
                begin += timedelta(microseconds=rng.randrange(1_000_000))
                plan.append((begin, ui, di))
        plan.sort(key=lambda item: (item[0], item[1]))
        return plan

    def _variants(self, user: _User, ts: datetime, session_day: date) -> dict[str, str]:
        """The experiments (and variants) an event at ``ts`` carries: those whose window holds its UTC date."""
        day = ts.date()
        carried = {}
        for experiment_id, (first, last) in self.windows.items():
            if first <= day <= last:
                variant = user.variants[experiment_id]
                if user.flips_checkout and experiment_id == CHECKOUT_EXPERIMENT:
                    # Sessions are simulated in start order, so the first call sees the first exposure.
                    user.first_checkout_day = user.first_checkout_day or session_day
                    if session_day > user.first_checkout_day:
                        variant = "treatment" if variant == "control" else "control"
                carried[experiment_id] = variant
        return carried

    def _pick_product(self, day: date) -> int:
        weighted = self.promo_popularity if day == self.promo_day else self.popularity
        return int(weighted.draw(self.rng))

    def run(self) -> None:
        for number, (begin, ui, di) in enumerate(self._session_plan(), start=1):
            self._session(f"s{number:07d}", self.users[ui], begin, self.start + timedelta(days=di))

    def _session(self, session_id: str, user: _User, begin: datetime, day: date) -> None:
        """Walk one visit down the funnel, dropping off at each step."""
        rng = self.rng
        rand = rng.random
        device = user.device if rand() < 0.85 else user.other_device
        catalogue = _catalogue_on(self.catalogues, day)
        clock = begin
        step = 0
        append = self.events.append
        user_id, country = user.user_id, user.country

        def stamp() -> tuple[str, datetime]:
            nonlocal clock
            rendered = _render_event_ts(rng, clock)
            clock = clock + timedelta(seconds=3 + 87 * rand())
            return rendered

        def emit(
            event_type: str,
            product: int | None = None,
            properties: dict[str, Any] | None = None,
            order_id: str | None = None,
            stamped: tuple[str, datetime] | None = None,
        ) -> datetime:
            nonlocal step
            text, instant = stamped or stamp()
            record: dict[str, Any] = {
                "event_id": "",  # assigned once all events are sorted
                "event_ts": text,
                "user_id": user_id,
                "session_id": session_id,
                "event_type": _odd_case(rng, event_type) if rand() < 0.02 else event_type,
                "product_id": None if product is None else catalogue[product].product_id,
                "order_id": order_id,
                "device": None if rand() < 0.015 else device,
                "country": country,
                "experiments": self._variants(user, instant, day),
                "properties": properties or {},
            }
            append((day, instant, session_id, step, record))
            step += 1
            return instant

        for _ in range(1 if rng.random() < 0.6 else 2):
            emit("page_view", properties={"path": rng.choice(_PAGES)})
        if rng.random() < P_SEARCH:
            for _ in range(rng.randint(1, 2)):
                emit("search", properties={"query": rng.choice(_SEARCH_QUERIES)})
                if rng.random() < 0.5:
                    emit("page_view", properties={"path": "/search"})
        if rng.random() >= P_VIEW_PRODUCT:
            for _ in range(rng.choice((0, 0, 1, 2))):
                emit("page_view", properties={"path": rng.choice(_PAGES)})
            return
        viewed: list[int] = []
        for _ in range(_N_VIEWS.draw(rng)):
            product = self._pick_product(day)
            viewed.append(product)
            emit("product_view", product, {"price": catalogue[product].list_price})
            if rng.random() < 0.4:
                emit("page_view", properties={"path": f"/category/{catalogue[product].category or 'misc'}"})
        if rng.random() >= min(1.0, P_ADD_TO_CART * user.intent):
            return
        distinct = list(dict.fromkeys(viewed))
        n_add = min(len(distinct), _N_ADD.draw(rng))
        cart: dict[int, int] = {}
        for product in rng.sample(distinct, n_add):
            quantity = _QUANTITY.draw(rng)
            cart[product] = quantity
            emit("add_to_cart", product, {"quantity": quantity})
        if rng.random() < P_REMOVE_FROM_CART:
            product = rng.choice(list(cart))
            del cart[product]
            emit("remove_from_cart", product, {})
        if not cart or rng.random() >= min(1.0, P_BEGIN_CHECKOUT * user.intent):
            return
        first = next(iter(cart))
        checkout_at = emit("begin_checkout", first, {"cart_size": len(cart)})
        variant = self._variants(user, checkout_at, day).get(CHECKOUT_EXPERIMENT, "control")
        if rng.random() >= P_PURCHASE[variant]:
            return
        # The order needs the purchase instant, and the purchase event needs the order's value.
        stamped = stamp()
        order_id, value = self._order(user, stamped[1], cart, catalogue)
        properties = {"value": value, "items": len(cart)}
        purchase_at = emit("purchase", first, properties, order_id, stamped)
        if rng.random() < P_PURCHASE_REFIRED:
            # A double-fired tracking call: new event_id, same order; gold must count the order once.
            clock = purchase_at + timedelta(seconds=rng.uniform(0.5, 3))
            emit("purchase", first, dict(properties), order_id)
        if rng.random() < 0.4:
            emit("page_view", properties={"path": "/thank-you"})

    def _order(self, user: _User, ts: datetime, cart: dict[int, int], catalogue: list[_Product]) -> tuple[str, float]:
        """Write the order's lines (1 per cart product) and return its id and net value."""
        rng = self.rng
        self.order_seq += 1
        order_id = f"o{self.order_seq:07d}"
        guest = rng.random() < P_GUEST_ORDER
        order_status = "cancelled" if rng.random() < P_CANCELLED_ORDER else _ORDER_STATUS.draw(rng)
        order_ts = _render_order_ts(rng, ts)
        value = 0.0
        for line_no, (product, quantity) in enumerate(cart.items(), start=1):
            price = round(catalogue[product].list_price * rng.choice((1, 1, 1, 1, 0.95, 0.9, 1.05)), 2)
            discount = _DISCOUNT.draw(rng)
            status = order_status
            if status != "cancelled" and rng.random() < P_RETURNED_LINE:
                status = "returned"
            value += quantity * price * (1 - float(discount or 0))
            row = [
                order_id,
                str(line_no),
                order_ts,
                "" if guest else user.user_id,
                catalogue[product].product_id,
                str(quantity),
                f"{price:.2f}",
                discount,
                status,
                user.country,
            ]
            self.order_rows.append((ts, row))
        return order_id, round(value, 2)


def _build(days: int, users: int, seed: int, start: date) -> _World:
    """Simulate the good data once; both the file writer and the Kafka feed read from it."""
    if days < 1 or users < 1:
        raise ValueError(f"days and users must be positive (got days={days}, users={users})")
    builder = _Builder(days, users, seed, start)
    builder.run()
    dates = [start + timedelta(days=i) for i in range(days)]

    events_by_day: dict[date, list[dict[str, Any]]] = {d: [] for d in dates}
    event_instants: dict[str, datetime] = {}
    builder.events.sort(key=lambda e: (e[0], e[1], e[2], e[3]))
    for number, (day, instant, _session, _step, record) in enumerate(builder.events, start=1):
        record["event_id"] = f"e{number:09d}"
        event_instants[record["event_id"]] = instant
        events_by_day[day].append(record)

    orders_by_day: dict[date, list[list[str]]] = {d: [] for d in dates}
    builder.order_rows.sort(key=lambda r: (r[0], r[1][0], int(r[1][1])))
    for ts, row in builder.order_rows:
        orders_by_day.setdefault(ts.date(), []).append(row)

    srng = random.Random(f"{seed}:stock")
    stock: dict[date, list[tuple[date, str, str, int, int]]] = {}
    for snapshot, products in builder.catalogues:
        stock[snapshot] = [
            (snapshot, p.product_id, warehouse, srng.randint(0, 400), srng.choice((10, 20, 25, 50)))
            for p in products
            for warehouse in WAREHOUSES
        ]
    return _World(
        start=start,
        days=days,
        experiments=builder.experiments,
        catalogues=builder.catalogues,
        stock=stock,
        events_by_day=events_by_day,
        orders_by_day=orders_by_day,
        event_instants=event_instants,
    )


# ---------------------------------------------------------------------------------------------
# writers


class _FixedTimeZipFile(zipfile.ZipFile):
    """A ZipFile whose members all carry one fixed timestamp.

    ``ZipFile.writestr(name, ...)`` stamps members with the wall clock and ``ZipFile.write`` with the
    file's mtime, which would make every xlsx differ between runs.
    """

    def writestr(  # type: ignore[override]
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: bytes | str,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=_ZIP_DATE_TIME)
            info.compress_type = self.compression
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(  # type: ignore[override]
        self,
        filename: str | Path,
        arcname: str | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        # openpyxl streams worksheets through a temp file, whose mtime ZipFile.write would copy.
        self.writestr(arcname or Path(filename).name, Path(filename).read_bytes(), compress_type, compresslevel)


def _xlsx_bytes(snapshot: date, products: list[_Product], stock: list[tuple[date, str, str, int, int]]) -> bytes:
    """Byte-stable workbook: document properties pinned to the snapshot date, fixed zip member times.

    ``openpyxl.save_workbook`` would overwrite ``modified`` with the current time, so we drive
    its ``ExcelWriter`` ourselves.
    """
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.title = "products"
    sheet.append(list(PRODUCT_HEADER))
    for p in products:
        sheet.append([p.product_id, p.name, p.category, p.brand, p.list_price, p.cost])
    stock_sheet = wb.create_sheet("stock")
    stock_sheet.append(list(STOCK_HEADER))
    for row in stock:
        stock_sheet.append(list(row))
    wb.properties.creator = "lakehouse.generate"
    stamp = datetime.combine(snapshot, datetime.min.time())
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buffer = io.BytesIO()
    archive = _FixedTimeZipFile(buffer, "w", zipfile.ZIP_DEFLATED)
    ExcelWriter(wb, archive).save()  # closes the archive
    return buffer.getvalue()


def _gzip_bytes(data: bytes, name: str) -> bytes:
    """gzip with mtime 0 so compressed files are byte-identical across runs."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buffer, mtime=0) as gz:
        gz.write(data)
    return buffer.getvalue()


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(ORDER_HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


@dataclass
class _Line:
    """A line about to be written; ``fault`` = (reason, id key or None for a file:line key)."""

    payload: Any
    fault: tuple[str, str | None] | None = None


def _insert_random(rng: random.Random, lines: list[_Line], line: _Line, lowest: int = 0) -> None:
    lines.insert(rng.randint(min(lowest, len(lines)), len(lines)), line)


_STATUS_UPDATE = {"placed": ("paid",), "paid": ("delivered", "returned"), "shipped": ("delivered",),
                  "delivered": ("returned",)}  # fmt: skip


def generate_landing(
    landing: Path,
    days: int = 14,
    users: int = 1500,
    seed: int = 7,
    start: date = date(2026, 10, 1),
    gzip_every: int = 3,
) -> GenerationSummary:
    """Write a complete landing zone under ``landing`` and describe what was planted.

    Files are overwritten, never deleted: point it at an empty folder for a clean zone.
    ``gzip_every <= 0`` writes no gzip files. Prints nothing.
    """
    landing = Path(landing)
    world = _build(days, users, seed, start)
    rng = random.Random(f"{seed}:landing")
    dates = sorted(world.events_by_day)
    last = dates[-1]
    fault_day = dates[min(1, len(dates) - 1)]
    fault_day_gz = dates[min(2, len(dates) - 1)]
    written: dict[str, bytes] = {}
    faults: list[PlantedFault] = []

    # --- events ---------------------------------------------------------------------------
    event_lines: dict[date, list[_Line]] = {d: [_Line(e) for e in world.events_by_day[d]] for d in dates}
    originals = [(d, e) for d in dates for e in world.events_by_day[d]]
    n_dup = round(DUPLICATE_EVENT_SHARE * len(originals))
    duplicate_ids: set[str] = set()
    for index in rng.sample(range(len(originals)), n_dup):
        day, record = originals[index]
        duplicate_ids.add(record["event_id"])
        if day < last and rng.random() < 0.5:
            # A re-delivered batch: the exact same line again, in a later day's file.
            target = day + timedelta(days=rng.randint(1, min(3, (last - day).days)))
            _insert_random(rng, event_lines[target], _Line(dict(record)))
        else:
            # A client retry re-stamped later, possibly written before the original: the earlier
            # event_ts must win, whatever the ingestion order.
            later = world.event_instants[record["event_id"]] + timedelta(seconds=rng.uniform(1, 600))
            _insert_random(rng, event_lines[day], _Line({**record, "event_ts": _iso_utc(later)}))

    def bad_event(n: int, day: date, **changes: Any) -> dict[str, Any]:
        """A plausible page_view with fresh ids, then exactly one defect from ``changes``."""
        base = dict(rng.choice(world.events_by_day[day]) if world.events_by_day[day] else originals[0][1])
        base.update(event_id=f"e9{n:08d}", session_id=f"s9{n:06d}", order_id=None)
        base.update(event_type="page_view", product_id=None, properties={"path": "/"})
        base.update(changes)
        return base

    truncated = '{"event_id": "e900000007", "user_id": "u00001", "event_ts": '
    planted_events: list[tuple[date, Any, str]] = [
        (fault_day, bad_event(1, fault_day, event_id=""), "missing_event_id"),
        (fault_day, bad_event(2, fault_day, user_id=None), "missing_user_id"),
        (fault_day, bad_event(3, fault_day, event_ts="2026-13-45T99:00:00"), "unparseable_event_ts"),
        (fault_day, bad_event(4, fault_day, event_ts="yesterday"), "unparseable_event_ts"),
        (fault_day_gz, bad_event(5, fault_day_gz, event_type="teleport"), "unknown_event_type"),
        (fault_day_gz, bad_event(6, fault_day_gz, event_ts="2099-01-01T00:00:00Z"), "event_ts_in_future"),
        (fault_day_gz, truncated, "malformed_json"),
    ]
    for day, payload, reason in planted_events:
        # Keyed by event_id when it has one; otherwise by file:line once positions are final.
        key = payload.get("event_id") or None if isinstance(payload, dict) else None
        _insert_random(rng, event_lines[day], _Line(payload, (reason, key)), lowest=1)

    n_events = 0
    for i, day in enumerate(dates):
        gz = gzip_every > 0 and (i + 1) % gzip_every == 0
        name = f"events/events_{day.isoformat()}.jsonl"
        rel = name + ".gz" if gz else name
        texts = []
        for line_no, line in enumerate(event_lines[day], start=1):
            payload = line.payload
            texts.append(payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False))
            if line.fault:
                reason, key = line.fault
                faults.append(PlantedFault("events", key or f"{rel}:{line_no}", rel, reason))
        n_events += len(texts)
        data = ("\n".join(texts) + "\n").encode("utf-8") if texts else b""
        written[rel] = _gzip_bytes(data, rel) if gz else data

    # --- orders ---------------------------------------------------------------------------
    order_dates = sorted(world.orders_by_day)
    order_lines = {d: [_Line(r) for r in world.orders_by_day[d]] for d in order_dates}
    candidates = [
        (d, row)
        for d in order_dates
        if d + timedelta(days=1) in order_lines
        for row in world.orders_by_day[d]
        if row[8] in _STATUS_UPDATE
    ]
    total_rows = sum(len(rows) for rows in world.orders_by_day.values())
    n_resent = min(len(candidates), max(1, round(RESENT_ORDER_LINE_SHARE * total_rows)))
    resent: set[str] = set()
    for day, row in (candidates[i] for i in sorted(rng.sample(range(len(candidates)), n_resent))):
        update = [*row[:8], rng.choice(_STATUS_UPDATE[row[8]]), row[9]]
        _insert_random(rng, order_lines[day + timedelta(days=1)], _Line(update))
        resent.add(f"{row[0]}|{row[1]}")
    exact_pool = [(d, row) for d in order_dates for row in world.orders_by_day[d] if f"{row[0]}|{row[1]}" not in resent]
    duplicate_rows: list[str] = []
    n_exact = min(EXACT_DUPLICATE_ORDER_ROWS, len(exact_pool))
    for day, row in (exact_pool[i] for i in sorted(rng.sample(range(len(exact_pool)), n_exact))):
        # A loader hiccup: the very same row twice in one file.
        lines = order_lines[day]
        position = next(i for i, line in enumerate(lines) if line.payload is row)
        _insert_random(rng, lines, _Line(list(row)), lowest=position + 1)
        duplicate_rows.append(f"{row[0]}|{row[1]}")

    order_fault_day = fault_day if fault_day in order_lines else order_dates[0]
    # A sale line as template, so a bad row wrongly let through would visibly change revenue.
    pool = [r for r in world.orders_by_day[order_fault_day] if r[8] not in ("cancelled", "returned")]
    pool = pool or [r for d in order_dates for r in world.orders_by_day[d]]
    template = list(rng.choice(pool)) if pool else [
        "", "1", _iso_utc(datetime.combine(order_fault_day, datetime.min.time()), " ", zulu=False),
        "u00001", "p0001", "1", "9.99", "", "paid", "US",
    ]  # fmt: skip

    def bad_row(n: int, column: str | None = None, value: str = "") -> list[str]:
        row = [f"o-bad-{n}", "1", *template[2:]]
        if column is not None:
            row[ORDER_HEADER.index(column)] = value
        return row

    planted_orders: list[tuple[list[str], str, str | None]] = [
        (bad_row(1, "order_id", ""), "missing_order_id", None),
        (bad_row(2, "order_ts", "03/10/2026 10:00"), "unparseable_order_ts", "o-bad-2|1"),
        (bad_row(3, "quantity", "two"), "non_numeric_quantity", "o-bad-3|1"),
        (bad_row(4, "quantity", "0"), "non_positive_quantity", "o-bad-4|1"),
        (bad_row(5, "unit_price", "-5.00"), "negative_unit_price", "o-bad-5|1"),
        (bad_row(6, "discount", "1.5"), "discount_out_of_range", "o-bad-6|1"),
        ([*bad_row(7), "EXTRA"], "malformed_csv_row", None),
    ]
    for row, reason, key in planted_orders:
        _insert_random(rng, order_lines[order_fault_day], _Line(row, (reason, key)), lowest=1)

    n_order_rows = 0
    for day in order_dates:
        rel = f"orders/orders_{day.isoformat()}.csv"
        for line_no, line in enumerate(order_lines[day], start=2):  # line 1 is the header
            if line.fault:
                reason, key = line.fault
                faults.append(PlantedFault("orders", key or f"{rel}:{line_no}", rel, reason))
        n_order_rows += len(order_lines[day])
        written[rel] = _csv_text([line.payload for line in order_lines[day]]).encode("utf-8")

    # --- inventory and experiments ----------------------------------------------------------
    for snapshot, products in world.catalogues:
        rel = f"inventory/inventory_{snapshot.isoformat()}.xlsx"
        written[rel] = _xlsx_bytes(snapshot, products, world.stock[snapshot])
    written["experiments/experiments.json"] = (json.dumps(world.experiments, indent=2) + "\n").encode("utf-8")

    for rel, data in written.items():
        path = landing / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    return GenerationSummary(
        landing=landing,
        files=sorted(written),
        events=n_events,
        order_lines=n_order_rows,
        products=len(world.catalogues[-1][1]),
        faults=faults,
        duplicate_event_ids=sorted(duplicate_ids),
        resent_order_lines=sorted(resent),
        duplicate_order_rows=sorted(duplicate_rows),
    )


def iter_clickstream(days: int, users: int, seed: int, start: date = date(2026, 10, 1)) -> Iterator[dict]:
    """The same good events as :func:`generate_landing` writes (used to publish to Kafka).

    Each original event once, in the order of the landing files (day by day, by event_ts);
    neither the planted faults nor the duplicate copies are included, so a consumer of the
    topic and a reader of the files must agree on silver after de-duplication.
    """
    world = _build(days, users, seed, start)
    for day in sorted(world.events_by_day):
        yield from world.events_by_day[day]
