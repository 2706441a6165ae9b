"""The dialogue manager: routes each utterance to the skill that owns its intent, or back to the
skill waiting for an answer, and resumes that skill's handler with it. No threads: handlers are tasks."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from .choices import resolve_choice
from .confirmation import ExplicitYes
from .errors import AssistantError, SkillError
from .loader import CORE_LOCALES, CORE_SKILL, LoadedSkill
from .nlu.types import IntentScore, ParseResult
from .skill import Answer, Cancelled, Context, Option
from .speech import DOUBTED, HeardWord
from .templates import Templates
from .turn import TurnResult

log = logging.getLogger(__name__)

#: A new request with at least this confidence replaces an unanswered question (and the skill must agree it is
#: one, `Skill.is_new_request`). Replacing only ever leads to another question, so this is not strict: at 0.75,
#: "for the bananas again" (0.72, "order" misheard) was taken as an unclear answer to the last proposal.
SUPERSEDE_CONFIDENCE = 0.6
#: A skill may claim an utterance for one of its intents the NLU ranked at least this high, when the
#: NLU's best reading was no confident intent of any skill (see `Skill.claims`).
CLAIM_FLOOR = 0.1
#: A "yes" to a confirmation needs at least this confidence (and explicit wording, see confirmation.py).
CONFIRM_CONFIDENCE = 0.6
#: What to say when a framework intent (yes, no, never mind) arrives with no question open;
#: any other framework intent (out_of_scope) is "not understood".
CORE_WITHOUT_QUESTION = {
    "core.affirm": "nothing_pending",
    "core.deny": "nothing_pending",
    "core.cancel": "nothing_to_cancel",
}


class Parser(Protocol):
    """Anything that turns text into a `ParseResult` (the NLU client, or a fake in tests)."""

    async def parse(self, text: str, lang: str) -> ParseResult: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Pending:
    """A question a handler is waiting on."""

    kind: str
    skill: str
    future: asyncio.Future[Any]
    task: asyncio.Task[None]
    deadline: datetime
    options: list[Option[Any]] = field(default_factory=list)
    resolve: Callable[[str, Sequence[Option[Any]]], Option[Any] | None] | None = None
    slot: str | None = None
    retried: bool = False


def slots_heard(parse: ParseResult, words: Sequence[HeardWord], spans: Sequence[tuple[int, int]] = ()) -> float | None:
    """Mean confidence of the spoken words inside the parse's entity spans (its slots), or inside `spans`
    (character offsets) when the NLU tagged none (`Skill.request_spans`), leaving out the words the
    recogniser doubted (`DOUBTED`: a skill may look again without them, as the shopping skill does); None
    when it has no slot, no word confidences, or only doubted words in its slots."""
    where = [(e.start, e.end) for e in parse.entities] or list(spans)
    inside = [w.probability for w in words if any(w.start < end and w.end > start for start, end in where)]
    clear = [p for p in inside if p >= DOUBTED]
    return sum(clear) / len(clear) if clear else None


def request_heard(
    heard: float, parse: ParseResult, words: Sequence[HeardWord] = (), spans: Sequence[tuple[int, int]] = ()
) -> float:
    """How well a spoken request was heard: the transcript's confidence, or, when the words of its
    slots were heard better than the whole, the mean of the two.

    The words that say *what* is wanted matter more than the command around them: robotic and noisy
    voices gave "order free tins and baked beans" at 0.29 with "baked beans" at 0.95, and "order two
    packs on Barilla spaghetti" at 0.39 with "Barilla spaghetti" at 0.75. Such a request may start
    (0.62, 0.57) and, being below `min_heard`, can only end in a proposal the user must confirm.
    Mumbling that happens to contain a product word stays out: "mesh cheddar dry" (reversed speech)
    scored 0.0 with "cheddar" at 0.68, which gives 0.34. A slot word the recogniser doubted does not
    count: "reorder the nasty biscuits" (said "digestive") at 0.36, "nasty" 0.04, "biscuits" 0.95,
    starts at 0.65, and the shopping skill then looks for the biscuits without "nasty". When the NLU
    tagged no slot, `spans` (from the skill the intent belongs to) stand in for them: "order free tin's
    baked beans," (0.22) came back with no entity, and the beans were heard at 0.98."""
    slots = slots_heard(parse, words, spans)
    return heard if slots is None or slots <= heard else (heard + slots) / 2


class Conversation:
    """One conversation's state, and the turn loop over it."""

    def __init__(
        self,
        skills: list[LoadedSkill],
        nlu: Parser,
        *,
        lang: str,
        services: dict[str, Any],
        threshold: float,
        timeout_s: float,
        clock: Callable[[], datetime] = utc_now,
        min_heard: float = 0.0,
        min_heard_request: float | None = None,
    ) -> None:
        self.skills = {s.name: s for s in skills}
        self.handlers = {intent: (s.name, h) for s in skills for intent, h in s.handlers.items()}
        self.capabilities = {
            f"{s.name}.{c}": (s.name, getattr(s.skill, attr))
            for s in skills
            for c, attr in type(s.skill).capability_methods().items()
        }
        self.cancelling = {f"{s.name}.{i}" for s in skills for i in type(s.skill).cancelling_intents()}
        self.nlu = nlu
        self.lang = lang
        self.services = services
        self.threshold = threshold
        self.timeout = timedelta(seconds=timeout_s)
        self.clock = clock
        self.min_heard = min_heard
        self.min_heard_request = min_heard if min_heard_request is None else min(min_heard, min_heard_request)
        self.heard: float | None = None
        self.heard_words: tuple[HeardWord, ...] = ()
        self.heard_alternatives: tuple[str, ...] = ()
        self.skill_state: dict[str, dict[str, Any]] = {}
        self.core = Templates.load(CORE_SKILL, CORE_LOCALES, sorted({lang, "en", "fr"}))
        self.explicit_yes = ExplicitYes(CORE_LOCALES, sorted({lang, "en", "fr"}))
        self.pending: Pending | None = None
        self.turn = 0
        self._reply: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._yielded: asyncio.Future[None] | None = None

    # --- used by Context -------------------------------------------------
    def render(self, skill: str, key: str, values: dict[str, Any]) -> str:
        templates = self.core if skill == CORE_SKILL else self.skills[skill].templates
        return templates.render(self.lang, key, values, variant=self.turn)

    def add_reply(self, sentence: str) -> None:
        self._reply.append(sentence)

    def add_event(self, event: dict[str, Any]) -> None:
        self._events.append(event)

    async def wait_for(self, kind: str, skill: str, **extra: Any) -> Any:
        """Park the calling handler until the user answers; ends the current turn."""
        task = asyncio.current_task()
        assert task is not None and self._yielded is not None, "wait_for must run inside a handler"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending = Pending(kind, skill, future, task, self.clock() + self.timeout, **extra)
        self._yielded.set_result(None)
        return await future

    async def hand_off(self, capability: str, parse: ParseResult, data: dict[str, Any]) -> Any:
        """Run another skill's `@capability` inside the calling handler's task, with a Context of its own."""
        target = self.capabilities.get(capability)
        if target is None:
            owner = capability.split(".")[0]
            raise SkillError(
                f"no enabled skill offers {capability!r} (is {owner!r} in skills.enabled?)",
                hint=f"add {owner!r} to skills.enabled in config.yml",
            )
        skill, method = target
        return await method(Context(self, skill, parse), **data)

    # --- the turn loop ---------------------------------------------------
    async def handle(
        self,
        text: str,
        *,
        heard: float | None = None,
        words: Sequence[HeardWord] = (),
        alternatives: Sequence[str] = (),
    ) -> TurnResult:
        """Handle one utterance and return what to answer.

        `heard` is the speech-to-text confidence when the text was spoken. Below `min_heard_request` (or
        with nothing heard) the utterance is not acted on: the user is asked to say it again, and any open
        question stays open. Between that and `min_heard` it may start a new request (whose result, a
        proposal, the user must still confirm) but never answers a question: a mumbled "yes" therefore
        never confirms an order. Skills see it as `Context.heard` / `Context.unsure`.

        `words` (the transcript's words with their own confidences) let a request whose slots were
        heard clearly start although the rest was not: see `request_heard`. `alternatives` are the
        recogniser's other readings (`Transcript.alternatives`), for skills (`Context.heard_alternatives`).
        """
        started = time.perf_counter()
        self.turn += 1
        self._reply, self._events = [], []
        skill: str | None = None
        parse = ParseResult(text, self.lang, None)
        try:
            if text.strip():
                parse = await self.nlu.parse(text, self.lang)
        except AssistantError as err:
            # Any open question stays open: the user can answer again once the NLU is back.
            log.error("NLU failed: %s", err)
            self._say_core("nlu_unavailable", message=err.message)
            nlu_ms = (time.perf_counter() - started) * 1000
        else:
            nlu_ms = (time.perf_counter() - started) * 1000
            self.heard, self.heard_words, self.heard_alternatives = heard, tuple(words), tuple(alternatives)
            if heard is not None and (not text.strip() or self._heard_too_little(heard, parse, words)):
                self._not_heard(heard)
            else:
                skill = await self._dispatch(parse)
        total_ms = (time.perf_counter() - started) * 1000
        return TurnResult(
            turn=self.turn,
            lang=self.lang,
            text=text,
            intent=parse.intent,
            entities=parse.entities,
            skill=skill,
            reply=" ".join(self._reply),
            expecting=self.pending.kind if self.pending else None,
            events=tuple(self._events),
            timings_ms={"nlu": nlu_ms, "skill": total_ms - nlu_ms, "total": total_ms},
        )

    async def expire(self) -> bool:
        """Drop an unanswered question whose time is up; True if one was dropped."""
        if self.pending and self.clock() >= self.pending.deadline:
            self._say_core("timeout")
            await self._fail_pending("timeout")
            return True
        return False

    async def close(self) -> None:
        """End the conversation, cancelling any question still open."""
        if self.pending:
            await self._fail_pending("closed")

    async def _dispatch(self, parse: ParseResult) -> str | None:
        await self.expire()
        if self.pending is None:
            return await self._route(parse)
        skill = self.pending.skill
        if self.heard is not None and self.heard < self.min_heard:  # unsure: may start a request or decline
            if await self._declined(parse):
                return skill
            request = parse if self._supersedes(parse) else self._claimed(parse)
            if request is not None:
                await self._fail_pending("superseded")
                return await self._route(request)
            self._not_heard(self.heard)
            return None
        if self._is(parse, "core.cancel") or self._cancels(parse, skill):
            await self._fail_pending("user")
            return skill
        if await self._answer(parse):
            return skill
        request = parse if self._supersedes(parse) else self._claimed(parse)
        if request is not None:
            await self._fail_pending("superseded")
            return await self._route(request)
        if not self.pending.retried:
            self.pending.retried = True
            self._reask()
            return skill
        self._say_core("unclear")
        await self._fail_pending("unclear")
        return skill

    async def _route(self, parse: ParseResult) -> str | None:
        intent = parse.intent
        target = self.handlers.get(intent.name) if intent is not None else None
        if intent is None or intent.confidence < self.threshold or target is None:
            claimed = self._claimed(parse)
            if claimed is not None:
                return await self._route(claimed)
        if intent is None or intent.confidence < self.threshold:
            self._say_core("not_understood")
            return None
        if intent.name.startswith(f"{CORE_SKILL}."):
            self._say_core(CORE_WITHOUT_QUESTION.get(intent.name, "not_understood"))
            return None
        if target is None:
            self._say_core("not_understood")
            return None
        skill, handler = target
        ctx = Context(self, skill, parse)
        await self._run(asyncio.create_task(handler(ctx)))
        return skill

    async def _answer(self, parse: ParseResult) -> bool:
        """Resume the waiting handler if `parse` answers its question; False if it does not."""
        p = self.pending
        assert p is not None
        value: Any
        if p.kind == "confirmation":
            if self._is_yes(parse):
                value = True
            elif self._is(parse, "core.deny"):
                value = False
            else:
                return False
        elif p.kind == "choice":
            value = self._resolve(p, parse.text)
            if value is None:
                if self._is(parse, "core.deny"):  # "no" to "which one?": neither ("no, the ground one" picks)
                    await self._fail_pending("user")
                    return True
                return False
        else:
            if self._is(parse, "core.deny"):
                await self._fail_pending("user")
                return True
            found = parse.entity(p.slot or "")
            value = Answer(text=parse.text, value=found.value if found else parse.text.strip(), parse=parse)
        self.pending = None
        await self._resume(p, lambda: p.future.set_result(value))
        return True

    async def _declined(self, parse: ParseResult) -> bool:
        """Take a plain "no" (or "never mind") heard unsure, as a request would be, rather than ask for it
        again: declining orders nothing, so it needs no more than `min_heard_request`. Piper's "No." reads
        "no" at 0.55-0.68 once the endpointer has cut it (the case of the word splits Whisper's vote), while
        "yes" reads 0.86. A confirmation gets its no; any other question is cancelled. False, with nothing
        done, for anything else, and for "no, the ground one", which names an option: that is asked again."""
        p = self.pending
        assert p is not None
        sure = max(self.threshold, CONFIRM_CONFIDENCE)
        cancel, deny = self._is(parse, "core.cancel", sure), self._is(parse, "core.deny", sure)
        if not (cancel or deny) or (p.kind == "choice" and self._resolve(p, parse.text) is not None):
            return False
        if cancel:
            await self._fail_pending("user")
            return True
        return await self._answer(parse)  # a sure "no" that picks nothing: the answer a sure hearing gives it

    def _resolve(self, p: Pending, text: str) -> Any:
        """The option of a "which one?" question that `text` picks, or None."""
        resolve = p.resolve or (lambda text, opts: resolve_choice(text, opts, self.lang))
        return resolve(text, p.options)

    def _is(self, parse: ParseResult, name: str, threshold: float | None = None) -> bool:
        minimum = self.threshold if threshold is None else threshold
        return parse.intent is not None and parse.intent.name == name and parse.intent.confidence >= minimum

    def _is_yes(self, parse: ParseResult) -> bool:
        """An explicit yes: confidently `core.affirm` AND worded only as affirmations are."""
        confident = self._is(parse, "core.affirm", max(self.threshold, CONFIRM_CONFIDENCE))
        return confident and self.explicit_yes(parse.text, self.lang)

    def _cancels(self, parse: ParseResult, skill: str) -> bool:
        name = parse.intent.name if parse.intent else ""
        return name in self.cancelling and name.startswith(f"{skill}.") and self._is(parse, name)

    def _supersedes(self, parse: ParseResult) -> bool:
        intent = parse.intent
        return (
            intent is not None
            and not intent.name.startswith(f"{CORE_SKILL}.")
            and intent.name in self.handlers
            and intent.confidence >= SUPERSEDE_CONFIDENCE
            and self.skills[self.handlers[intent.name][0]].skill.is_new_request(parse, self.lang)
        )

    def _heard_too_little(self, heard: float, parse: ParseResult, words: Sequence[HeardWord]) -> bool:
        """Whether a spoken utterance was heard under `min_heard_request` (`request_heard`). A request the NLU
        tagged no slot in is asked about only then: the skill that owns its intent may name the words that
        say what it wants (`Skill.request_spans`; the shopping skill reads the history to know)."""
        if request_heard(heard, parse, words) >= self.min_heard_request:
            return False
        intent = parse.intent
        if parse.entities or intent is None or intent.name not in self.handlers:
            return True
        skill = self.skills[self.handlers[intent.name][0]].skill
        return (
            request_heard(heard, parse, words, skill.request_spans(parse, intent.name, self.lang))
            < self.min_heard_request
        )

    def _claimed(self, parse: ParseResult) -> ParseResult | None:
        """`parse` given to a skill intent the NLU ranked lower, if that skill claims it (`Skill.claims`);
        None if none does."""
        for score in (parse.intent, *parse.ranking):
            if score is None or score.confidence < CLAIM_FLOOR or score.name.startswith(f"{CORE_SKILL}."):
                continue
            if score.name not in self.handlers:
                continue
            skill = self.handlers[score.name][0]
            if self.skills[skill].skill.claims(parse, score.name, self.lang):
                top = parse.intent
                self.add_event(
                    {
                        "type": "intent_claimed",
                        "skill": skill,
                        "intent": score.name,
                        "nlu_intent": top.name if top else None,
                        "nlu_confidence": round(top.confidence, 3) if top else None,
                    }
                )
                return replace(parse, intent=IntentScore(score.name, max(score.confidence, self.threshold)))
        return None

    def _not_heard(self, heard: float) -> None:
        self.add_event({"type": "not_heard", "confidence": round(heard, 3)})
        self._say_core("not_heard")

    def _reask(self) -> None:
        p = self.pending
        assert p is not None
        if p.kind == "confirmation":
            self._say_core("say_yes_or_no")
        elif p.kind == "choice":
            labels = [o.label for o in p.options]
            self._say_core(
                "say_which",
                options=self.render(CORE_SKILL, "or_list", {"first": ", ".join(labels[:-1]), "last": labels[-1]}),
            )
        else:
            self._say_core("say_again")

    async def _fail_pending(self, reason: str) -> None:
        p = self.pending
        assert p is not None
        self.pending = None
        await self._resume(p, lambda: p.future.set_exception(Cancelled(reason)))

    async def _resume(self, p: Pending, deliver: Callable[[], None]) -> None:
        self._yielded = asyncio.get_running_loop().create_future()
        deliver()
        await self._wait(p.task)

    async def _run(self, task: asyncio.Task[None]) -> None:
        self._yielded = asyncio.get_running_loop().create_future()
        await self._wait(task)

    async def _wait(self, task: asyncio.Task[None]) -> None:
        """Wait until the handler finishes or asks a question."""
        assert self._yielded is not None
        await asyncio.wait({task, self._yielded}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            return
        self._yielded = None
        err = task.exception()
        if err is None:
            return
        if isinstance(err, Cancelled):
            if err.reason == "user":
                self._say_core("cancelled")
        elif isinstance(err, AssistantError):
            log.error("skill failed: %s", err)
            self._say_core("error", message=err.message)
        else:
            log.error("skill crashed", exc_info=err)
            self._say_core("crashed")

    def _say_core(self, key: str, **values: Any) -> None:
        self.add_reply(self.render(CORE_SKILL, key, values))
