"""The example department and its customers: who they are and where they sit. Names never repeat
among the staff (they are referred to by name); customers are scattered around their area."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from kis_batch.demo.parameters import (
    ADDRESS_ROOM_SHARE,
    AREAS,
    BALANCE_CHOICES,
    BRANDS,
    COMPANY_PREFIXES,
    COMPANY_SUFFIXES,
    CONTACT_TITLE_SHARE,
    CONTACT_TITLES,
    CUSTOMER_AREA_MIX,
    CUSTOMER_ID_WIDTH,
    EMAIL_DOMAIN,
    ENGINEER_AREAS,
    GIVEN_NAMES,
    GROUP_NAMES,
    INDUSTRIES,
    KEY_CUSTOMER_SHARE,
    LANDLINE_SHARE,
    LARGE_PRODUCT_MIX,
    MOBILE_PREFIXES,
    NAME_TRIES,
    NEAREST_ENGINEERS,
    NO_COORDINATES_SHARE,
    OFFICE_AREA,
    OWNER_BY_AREA_SHARE,
    PRODUCT_MIX,
    REMOTE_AREA,
    SCATTER_DEG,
    SEGMENT_MIX,
    STREETS,
    SURNAMES,
    VERSION_MIX,
)
from kis_batch.schema import ENGINEER, GROUP_SEGMENT, HOTLINE, IMPLEMENTER, MANAGER_ROLES

Place = tuple[float, float]  # (lat, lon)


@dataclass(frozen=True)
class Person:
    staff_id: str
    name: str
    role: str
    area: str
    place: Place
    email: str | None


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    contact: str
    phone: str
    address: str
    area: str
    place: Place  # for distances; the area's centre where no coordinates are recorded
    has_coordinates: bool
    owner: Person
    key: bool
    segment: str
    product: str


@dataclass(frozen=True)
class Department:
    """The staff by role, as the simulation and the workbooks ask for them."""

    staff: list[Person]
    engineers: list[Person]
    specialists: list[Person]
    manager: Person
    assistant: Person
    hotline: Person

    @classmethod
    def of(cls, staff: list[Person]) -> Department:
        def first(role: str) -> Person:
            return next(p for p in staff if p.role == role)

        return cls(staff, [p for p in staff if p.role == ENGINEER], [p for p in staff if p.role == IMPLEMENTER],
                   first(MANAGER_ROLES[0]), first(MANAGER_ROLES[1]), first(HOTLINE))


def km(a: Place, b: Place) -> float:
    """Great-circle distance, km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def nearest(people: Iterable[Person], place: Place) -> Person:
    return min(people, key=lambda p: (km(p.place, place), p.staff_id))


def _scatter(rng: random.Random, area: str) -> Place:
    lat, lon = AREAS[area]
    return round(lat + rng.gauss(0, SCATTER_DEG), 4), round(lon + rng.gauss(0, SCATTER_DEG), 4)


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def make_staff(rng: random.Random, engineers: int, specialists: int) -> list[Person]:
    """The department: a manager, an assistant, the engineers, the specialists and the hotline.
    The newest engineer has no e-mail address yet, so mail has a person to report."""
    roles = [MANAGER_ROLES[0], MANAGER_ROLES[1], *[ENGINEER] * engineers, *[IMPLEMENTER] * specialists, HOTLINE]
    width = max(2, len(str(len(roles))))
    last_engineer = 2 + engineers
    people: list[Person] = []
    taken: set[str] = set()
    for number, role in enumerate(roles, 1):
        name = _person_name(rng)
        while name in taken:
            name = _person_name(rng)
        taken.add(name)
        staff_id = f"E{number:0{width}d}"
        if role == ENGINEER:
            area = ENGINEER_AREAS[(number - 3) % len(ENGINEER_AREAS)]
        elif role == IMPLEMENTER:
            area = ENGINEER_AREAS[(number - 3 - engineers) * 3 % len(ENGINEER_AREAS)]
        else:
            area = OFFICE_AREA
        email = None if number == last_engineer else f"{staff_id.lower()}@{EMAIL_DOMAIN}"
        people.append(Person(staff_id, name, role, area, _scatter(rng, area), email))
    return people


def _phone(rng: random.Random) -> str:
    if rng.random() < LANDLINE_SHARE:
        return f"0571{rng.choice('5678')}{rng.randint(0, 9_999_999):07d}"
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99_999_999):08d}"


def _company(rng: random.Random, area: str, taken: set[str]) -> str:
    for _ in range(NAME_TRIES):
        prefix = COMPANY_PREFIXES.pick(rng) or area[:2]
        name = f"{prefix}{rng.choice(BRANDS)}{rng.choice(INDUSTRIES)}{COMPANY_SUFFIXES.pick(rng)}"
        if name not in taken:
            break
    taken.add(name)
    return name


def _address(rng: random.Random, area: str) -> str:
    address = f"{area}{rng.choice(STREETS[area])}{rng.randint(1, 999)}号"
    if rng.random() < ADDRESS_ROOM_SHARE:
        address += f"{rng.randint(1, 30)}幢{rng.randint(1, 20)}0{rng.randint(1, 9)}室"
    return address


class _Owners:
    """Who owns a new customer: mostly an engineer based in its area (else the nearest ones), the
    rest the least loaded of a few engineers (the manager balances)."""

    def __init__(self, engineers: list[Person]) -> None:
        by_area: dict[str, list[Person]] = defaultdict(list)
        for person in engineers:
            by_area[person.area].append(person)
        self.engineers = engineers
        self.local = {area: by_area[area] or sorted(engineers, key=lambda p, c=centre: (km(p.place, c), p.staff_id))[:NEAREST_ENGINEERS]
                      for area, centre in AREAS.items()}
        self.load = dict.fromkeys((p.staff_id for p in engineers), 0)

    def pick(self, rng: random.Random, area: str) -> Person:
        if rng.random() < OWNER_BY_AREA_SHARE:
            owner = rng.choice(self.local[area])
        else:
            sample = rng.sample(self.engineers, min(BALANCE_CHOICES, len(self.engineers)))
            owner = min(sample, key=lambda p: (self.load[p.staff_id], p.staff_id))
        self.load[owner.staff_id] += 1
        return owner


def make_customers(rng: random.Random, count: int, engineers: list[Person]) -> list[Customer]:
    """Customers around the city, mostly owned by an engineer based in their area (else the nearest)."""
    owners = _Owners(engineers)
    width = max(CUSTOMER_ID_WIDTH, len(str(count)))
    taken: set[str] = set()
    customers: list[Customer] = []
    for number in range(1, count + 1):
        segment = SEGMENT_MIX.pick(rng)
        area = REMOTE_AREA if segment == "异地客户" else CUSTOMER_AREA_MIX.pick(rng)
        place = _scatter(rng, area)
        has_coordinates = rng.random() >= NO_COORDINATES_SHARE
        owner = owners.pick(rng, area)
        surname = rng.choice(SURNAMES)
        contact = surname + rng.choice(CONTACT_TITLES) if rng.random() < CONTACT_TITLE_SHARE else _person_name(rng)
        product = (LARGE_PRODUCT_MIX if segment in ("大客户", "集团客户") else PRODUCT_MIX).pick(rng)
        address = _address(rng, area)
        customers.append(Customer(
            f"C{number:0{width}d}", _company(rng, area, taken), contact, _phone(rng), address, area,
            place if has_coordinates else AREAS[area], has_coordinates, owner,
            rng.random() < KEY_CUSTOMER_SHARE[segment], segment, f"{product} {VERSION_MIX.pick(rng)}",
        ))
    return customers


def groups(customers: list[Customer]) -> dict[str, str]:
    """客户编号 -> 所属集团 for every 集团客户."""
    members = [c.customer_id for c in customers if c.segment == GROUP_SEGMENT]
    return {cid: GROUP_NAMES[index % len(GROUP_NAMES)] for index, cid in enumerate(members)}
