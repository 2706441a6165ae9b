"""The skill API: what a skill author imports. Keep this surface small and stable.

    from assistant.skill import Skill, Context, intent

    class Weather(Skill):
        @intent("forecast")
        async def forecast(self, ctx: Context) -> None:
            if await ctx.confirm("ask_umbrella"):
                ctx.say("umbrella")

A handler runs as a task; `confirm`, `choose` and `ask` say a question, end the turn,
and resume the handler with the user's next utterance. "Never mind" or a timeout raise
`Cancelled` inside the handler, which may catch it to clean up.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date as Day
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from .nlu.types import ParseResult
from .slots import Quantity, read_date, read_number, read_quantity
from .speech import HeardWord

if TYPE_CHECKING:
    from .dialogue import Conversation

T = TypeVar("T")
Handler = Callable[[Any, "Context"], Awaitable[None]]


class Cancelled(Exception):
    """Raised inside a handler waiting for an answer when the user says "never mind", the question
    times out, an answer stays unclear, or a new request replaces it. `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Option(Generic[T]):
    """One choice offered to the user."""

    label: str
    """How the option is said aloud ("the coffee beans")."""
    value: T
    """What the handler gets back when the user picks it."""
    id: str = ""
    """A stable id for the turn JSON (e.g. a SKU)."""


@dataclass(frozen=True)
class Answer:
    """The user's reply to `ask`."""

    text: str
    """The whole utterance."""
    value: str
    """The requested slot's value if the NLU found it, else the whole utterance."""
    parse: ParseResult
    """The NLU's reading of the reply."""


def intent(name: str, *, cancels_pending: bool = False) -> Callable[[Handler], Handler]:
    """Mark an async method as the handler of the skill's intent `name` (as named in its nlu.yml).

    With `cancels_pending=True`, saying this intent while the same skill waits for an answer
    cancels that question (like "never mind") instead of starting the handler; e.g. "cancel the order"
    while an order proposal waits for a yes.
    """

    def mark(func: Handler) -> Handler:
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"@intent({name!r}) handler {func.__qualname__} must be `async def`")
        func.__assistant_intent__ = name  # type: ignore[attr-defined]
        func.__assistant_cancels__ = cancels_pending  # type: ignore[attr-defined]
        return func

    return mark


def capability(name: str) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Mark an async method as something other skills may hand part of a request to, published as
    `<skill>.<name>`. It is called as `method(ctx, **data)` by `Context.hand_off`, with a Context of its
    own skill (its templates, its state), and may ask questions like any handler. It needs no NLU examples:
    no utterance reaches it directly. Its keyword arguments and return value are its documented contract.
    """

    def mark(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"@capability({name!r}) method {func.__qualname__} must be `async def`")
        func.__assistant_capability__ = name  # type: ignore[attr-defined]
        return func

    return mark


@dataclass
class SkillEnv:
    """What the framework hands a skill at set-up."""

    config: Any
    """The whole validated `Config`."""
    settings: Any
    """The skill's own settings, validated into its `Settings` dataclass (or a dict if it has none)."""
    services: dict[str, Any] = field(default_factory=dict)
    """Shared services by name (`db`, `retailer`, `orders`, `clock`)."""


class Skill:
    """Base class of a skill. Subclasses declare handlers with `@intent` and may override `setup`."""

    name: ClassVar[str] = ""
    """Skill name; defaults to its folder name. Intents are published as `<name>.<intent>`."""
    Settings: ClassVar[type | None] = None
    """Optional frozen dataclass for this skill's settings under `skills.settings.<name>` in config.yml."""
    description: ClassVar[dict[str, str]] = {}
    """What the skill can do, per language, for help listings."""

    def __init__(self, env: SkillEnv) -> None:
        self.env = env

    async def setup(self) -> None:
        """Called once after loading, before the first turn (open resources, build indexes)."""

    def is_new_request(self, parse: ParseResult, lang: str) -> bool:
        """Whether `parse` (one of this skill's intents, said while a question is open) is a new request
        that replaces the question, rather than an unclear answer to it. Default: the NLU found a slot.
        Override when the skill reads more than the NLU's slots (e.g. a product named without a slot)."""
        return bool(parse.entities)

    def claims(self, parse: ParseResult, intent: str, lang: str) -> bool:
        """Whether `parse`, which the NLU did not confidently give this skill, is nevertheless a request
        for `intent` (one of this skill's intents that the NLU ranked lower, at `CLAIM_FLOOR` or more):
        "it more oatly" came back `core.affirm` 0.43, yet it names a product the household buys. Asked
        only when nothing else takes the utterance (no answer to the open question, no confident intent).
        Claim only intents whose handler asks before it acts: the NLU was unsure. Default: never."""
        return False

    def request_spans(self, parse: ParseResult, intent: str, lang: str) -> Sequence[tuple[int, int]]:
        """Where in `parse.text` (character offsets) a spoken request for `intent` says what it wants,
        when the NLU tagged no slot. The dialogue then counts how well those words were heard, as it
        does a slot's, in deciding whether a request it heard poorly may start (`dialogue.request_heard`).
        Give only words that name something the skill knows: this lets a poorly heard request through.
        Default: none."""
        return ()

    async def ready(self, lang: str) -> None:
        """Return once the skill answers at full speed in `lang` (models loaded). The voice loop awaits
        it before saying it is listening; the chat REPL does not wait."""

    @classmethod
    def handlers(cls) -> dict[str, str]:
        """Map of intent name → method name for every `@intent` method."""
        return cls._marked("__assistant_intent__")

    @classmethod
    def capability_methods(cls) -> dict[str, str]:
        """Map of capability name → method name for every `@capability` method."""
        return cls._marked("__assistant_capability__")

    @classmethod
    def _marked(cls, mark: str) -> dict[str, str]:
        """Map of the name a decorator set in `mark` → method name, over the coroutine methods."""
        found: dict[str, str] = {}
        for attr, member in inspect.getmembers(cls, inspect.iscoroutinefunction):
            name = getattr(member, mark, None)
            if name:
                found[name] = attr
        return found

    @classmethod
    def cancelling_intents(cls) -> set[str]:
        """Intents that cancel this skill's open question (see `intent(cancels_pending=...)`)."""
        return {
            name for name, attr in cls.handlers().items() if getattr(getattr(cls, attr), "__assistant_cancels__", False)
        }


class Context:
    """One request being handled: what was said, and how to answer."""

    def __init__(self, conversation: Conversation, skill_name: str, parse: ParseResult) -> None:
        self._conversation = conversation
        self.skill_name = skill_name
        self.parse = parse
        self._heard: float | None = conversation.heard
        self._heard_words = conversation.heard_words
        self._heard_alternatives = conversation.heard_alternatives

    @property
    def text(self) -> str:
        """The utterance that started this request."""
        return self.parse.text

    @property
    def heard(self) -> float | None:
        """How sure speech-to-text was of the utterance that started this request (0..1); None when typed."""
        return self._heard

    @property
    def heard_words(self) -> tuple[HeardWord, ...]:
        """The spoken words of that utterance with speech-to-text's confidence in each, at their offsets
        in `text`; empty when typed or when the engine gives none."""
        return self._heard_words

    @property
    def heard_alternatives(self) -> tuple[str, ...]:
        """Other readings of that utterance speech-to-text found nearly as likely, best first; empty when
        typed or when the engine gives none. Only for when `text` names nothing the skill knows: they were
        not parsed by the NLU, and the user still has to confirm whatever they lead to."""
        return self._heard_alternatives

    @property
    def unsure(self) -> bool:
        """The words may be misheard (spoken, below `listen.min_confidence`). Act only through a question
        the user answers, and prefer "say it again" over "I found nothing" (the words may be wrong)."""
        return self._heard is not None and self._heard < self._conversation.min_heard

    @property
    def lang(self) -> str:
        """The conversation language (`en`, `fr`)."""
        return self._conversation.lang

    @property
    def now(self) -> datetime:
        """Current time (aware UTC), from the framework clock."""
        return self._conversation.clock()

    @property
    def state(self) -> dict[str, Any]:
        """This skill's per-conversation state; survives across requests in one conversation."""
        return self._conversation.skill_state.setdefault(self.skill_name, {})

    def slot(self, name: str) -> str | None:
        """The value of entity `name` in the utterance, if the NLU found one."""
        found = self.parse.entity(name)
        return found.value if found else None

    # --- typed slot readers (see assistant/slots.py for what each accepts) ---
    def number(self, name: str) -> int | None:
        """Slot `name` as a whole number ("3", "twenty-one", "vingt et un"); None if absent or not a number."""
        value = self.slot(name)
        return read_number(value, self.lang) if value is not None else None

    def quantity(self, name: str) -> Quantity | None:
        """Slot `name` as an amount with an optional unit ("2 kg", "three bottles"); None if absent or unreadable."""
        value = self.slot(name)
        return read_quantity(value, self.lang) if value is not None else None

    def date(self, name: str) -> Day | None:
        """Slot `name` as a day ("tomorrow", "friday", "24 décembre") after `now`; None if absent or unreadable."""
        value = self.slot(name)
        return read_date(value, self.lang, self.now.date()) if value is not None else None

    def render(self, key: str, **values: Any) -> str:
        """A response template of this skill in the conversation language, filled in."""
        return self._conversation.render(self.skill_name, key, values)

    def say(self, key: str, **values: Any) -> None:
        """Add a templated sentence to the reply."""
        self._conversation.add_reply(self.render(key, **values))

    def emit(self, type_: str, **data: Any) -> None:
        """Record a structured event for this turn (shown in `--json` output and to tests)."""
        self._conversation.add_event({"type": type_, **data})

    async def confirm(self, key: str, **values: Any) -> bool:
        """Ask a yes/no question; True only for an explicit yes. Raises `Cancelled`."""
        self.say(key, **values)
        result = await self._conversation.wait_for("confirmation", self.skill_name)
        return bool(result)

    async def choose(
        self,
        key: str,
        options: Sequence[Option[T]],
        resolve: Callable[[str, Sequence[Option[T]]], Option[T] | None] | None = None,
        **values: Any,
    ) -> Option[T]:
        """Offer options and return the one picked. `resolve` maps an answer to an option
        (default: ordinals and fuzzy label match). Raises `Cancelled`."""
        self.say(key, **values)
        picked = await self._conversation.wait_for("choice", self.skill_name, options=list(options), resolve=resolve)
        return picked  # type: ignore[no-any-return]

    async def ask(self, key: str, slot: str, **values: Any) -> Answer:
        """Ask for a missing slot and return the answer. Raises `Cancelled`."""
        self.say(key, **values)
        answer = await self._conversation.wait_for(f"slot:{slot}", self.skill_name, slot=slot)
        return answer  # type: ignore[no-any-return]

    async def hand_off(self, capability: str, **data: Any) -> Any:
        """Let another skill do part of this request: await its `@capability` named `capability`
        (`<skill>.<name>`, e.g. `shopping.order_list`) with `data` as keyword arguments, and return what
        it returns. It speaks and asks in its own words; a "never mind" while it asks reaches it first.
        Raises `SkillError` if no enabled skill offers it."""
        return await self._conversation.hand_off(capability, self.parse, data)

    def skill_descriptions(self) -> dict[str, str]:
        """What each enabled skill can do (its `Skill.description`), in the conversation language or else
        English, in `skills.enabled` order; skills without a description are left out."""
        found = {}
        for name, loaded in self._conversation.skills.items():
            texts = type(loaded.skill).description
            text = texts.get(self.lang) or texts.get("en")
            if text:
                found[name] = text
        return found

    def service(self, name: str) -> Any:
        """A shared framework service (`db`, `retailer`, `orders`, `clock`)."""
        return self._conversation.services[name]
