"""Key types and what each key has to spend: coins (``NORMAL``) or a wallet (``SHARED``,
``EXCLUSIVE``).

A ``--keys`` file line is ``[cn:|ai:]KEY [TYPE] [coins=N] [money=X] [currency=CNY|USD]
[name=TEXT] [account=ID]``; a bare ``KEY`` (the original format) still works. Every key
without a declared type has the emulator's ``key_type`` (default ``NORMAL``). Keys that
share an ``account`` are listed together by ``/openapi/v2/api-key/list``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .auth import key_hash
from .options import KEY_TYPES, EmulatorOptions
from .tasks import QUEUED, TaskRecord
from .wire import ApiProblem, Problem

WALLET_TYPES = frozenset({"SHARED", "EXCLUSIVE"})
CURRENCIES = ("CNY", "USD")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,40}")
_CENT = Decimal("0.001")


@dataclass(frozen=True)
class KeyDeclaration:
    """What a keys-file line says about one key (None: the emulator's default)."""

    key: str
    key_type: str | None = None
    coins: int | None = None
    money: Decimal | None = None
    currency: str | None = None
    name: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class KeyProfile:
    """A key's type and starting balance, with the defaults applied."""

    key_type: str
    coins: int
    money: Decimal | None
    currency: str | None
    name: str
    account: str

    @property
    def has_wallet(self) -> bool:
        return self.key_type in WALLET_TYPES


def parse_declaration(entry: str) -> KeyDeclaration:
    """One keys-file entry; ValueError names a bad token (never the key itself)."""
    first, *tokens = entry.split()
    prefix, sep, rest = first.partition(":")
    key = rest if sep and prefix in ("cn", "ai") else first
    values: dict[str, str] = {}
    key_type = None
    for token in tokens:
        name, sep, value = token.partition("=")
        if not sep and token.upper() in KEY_TYPES:
            key_type = token.upper()
        elif sep and name in ("coins", "money", "currency", "name", "account"):
            values[name] = value
        elif sep:
            raise ValueError(f"keys file: unknown setting {name[:20]!r}")
        else:  # never echoed: a second key pasted on the line would be shown
            raise ValueError(
                f"keys file: a word after the key is not one of {', '.join(KEY_TYPES)}"
            )
    return _declaration(key, key_type, values)


def _declaration(key: str, key_type: str | None, values: dict[str, str]) -> KeyDeclaration:
    currency = values.get("currency")
    if currency is not None and currency.upper() not in CURRENCIES:
        raise ValueError(f"keys file: currency must be one of {', '.join(CURRENCIES)}")
    for label in ("name", "account"):
        if label in values and not _NAME.fullmatch(values[label]):
            raise ValueError(f"keys file: {label} must be 1-40 letters, digits, '.', '_', '-'")
    try:
        coins = None if "coins" not in values else int(values["coins"])
        money = None if "money" not in values else Decimal(values["money"])
    except (ValueError, InvalidOperation):
        raise ValueError("keys file: coins must be an integer and money a number") from None
    if (coins is not None and coins < 0) or (money is not None and not money >= 0):
        raise ValueError("keys file: coins and money must not be negative")
    return KeyDeclaration(
        key,
        key_type,
        coins,
        money,
        currency and currency.upper(),
        values.get("name"),
        values.get("account"),
    )


def _first(value: Decimal | None, default: Decimal) -> Decimal:
    return default if value is None else value


class KeyBook:
    """Profiles of declared keys; undeclared (but valid) keys get the defaults."""

    def __init__(
        self,
        entries: Iterable[str] | None,
        *,
        default_type: str,
        coins: int,
        money: Decimal,
        currency: str,
    ) -> None:
        self._declared = {d.key: d for d in map(parse_declaration, entries or ()) if d.key}
        self._default_type, self._coins, self._money = default_type, coins, money
        self._currency = currency

    @classmethod
    def from_options(cls, options: EmulatorOptions) -> KeyBook:
        return cls(
            options.keys,
            default_type=options.key_type,
            coins=options.initial_coins,
            money=Decimal(options.initial_money),
            currency=options.currency or ("USD" if options.site == "ai" else "CNY"),
        )

    def profile(self, key: str) -> KeyProfile:
        declared = self._declared.get(key) or KeyDeclaration(key)
        key_type = declared.key_type or self._default_type
        wallet = key_type in WALLET_TYPES
        return KeyProfile(
            key_type=key_type,
            coins=self._coins if declared.coins is None else declared.coins,
            money=_first(declared.money, self._money) if wallet else None,
            currency=(declared.currency or self._currency) if wallet else None,
            name=declared.name or "default",
            account=declared.account or key_hash(key),
        )

    def account_keys(self, key: str) -> list[str]:
        """The keys of ``key``'s account (itself first), as declared in the keys file."""
        account = self.profile(key).account
        others = [k for k in self._declared if k != key and self.profile(k).account == account]
        return [key, *others]


class Spending:
    """Coins and money each key (by hash) has spent since the start or the last reset."""

    def __init__(self) -> None:
        self.coins: Counter[str] = Counter()
        self.money: defaultdict[str, Decimal] = defaultdict(Decimal)

    def charge(self, digest: str, coins: int, money: Decimal | None) -> None:
        if money is None:
            self.coins[digest] += coins
        else:
            self.money[digest] += money

    def wallet_charge(
        self, key: str, profile: KeyProfile, price: Decimal | None, default: str
    ) -> str | None:
        """What a new task of a wallet key will cost (None for a coin key); raises
        WALLET_TOO_LOW, creating nothing, when the wallet cannot pay it."""
        if not profile.has_wallet:
            return None
        amount = Decimal(default) if price is None else price
        _, remaining = self.remaining(key, profile)
        if remaining is not None and remaining < amount:
            raise ApiProblem(Problem.WALLET_TOO_LOW, f"needs {amount}, has {remaining}")
        return str(amount)

    def remaining(self, key: str, profile: KeyProfile) -> tuple[int, Decimal | None]:
        digest = key_hash(key)
        coins = max(0, profile.coins - self.coins[digest])
        if profile.money is None:
            return coins, None
        return coins, max(Decimal(0), profile.money - self.money[digest])

    def clear(self) -> None:
        self.coins.clear()
        self.money.clear()


def money_text(amount: Decimal) -> str:
    """A wallet amount as the service writes balances: a decimal string."""
    return str(amount.quantize(_CENT))


def admit(
    profile: KeyProfile,
    personal_queue: bool,
    active: list[TaskRecord],
    now: float,
    options: EmulatorOptions,
) -> float:
    """When a new task of a key with ``active`` tasks may start; raises when it may not be
    created: 421 at the limit, 415 for an exclusive key, whose personal queue (when asked
    for) holds it instead, up to ``personal_queue_limit`` waiting tasks (814)."""
    earliest = now + options.queue_seconds
    limit = options.concurrency
    if len(active) < limit:
        return earliest
    if profile.key_type != "EXCLUSIVE":
        raise ApiProblem(Problem.QUEUE_FULL)
    if not personal_queue:
        raise ApiProblem(Problem.INSTANCE_BUSY)
    waiting = sum(1 for task in active if task.status(now) == QUEUED)
    if waiting >= options.personal_queue_limit:
        raise ApiProblem(Problem.PERSONAL_QUEUE_FULL)
    # A slot frees when enough of the tasks ahead have ended (each at its planned end).
    ends = sorted(task.min_end_at if task.done_at is None else task.finish_at for task in active)
    return max(earliest, ends[len(active) - limit])
