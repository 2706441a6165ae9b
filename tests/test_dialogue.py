"""The dialogue manager: routing, resuming a waiting handler, never mind, timeouts, re-asking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.dialogue import Conversation, request_heard, slots_heard
from assistant.loader import LoadedSkill
from assistant.nlu.types import Entity, IntentScore, ParseResult
from assistant.skill import Cancelled, Context, Option, Skill, SkillEnv, intent
from assistant.templates import Templates
from tests.speech_helpers import heard_words

# A keyword parser standing in for Rasa (the real one is exercised in the NLU and golden tests).
RULES = {
    "yellow submarine": "core.affirm",  # a classifier's confident mistake: not worded as a yes
    "yes": "core.affirm",
    "no": "core.deny",
    "never mind": "core.cancel",
    "buy": "toy.buy",
    "drop it": "toy.drop",
    "hello": "toy.hello",
}


#: Utterances the NLU reads as something else, with the skill's intent ranked lower ("it more oatly":
#: core.affirm 0.43, shopping.reorder 0.14 from the real model).
RANKED = {
    "it more milk": (IntentScore("core.affirm", 0.43), IntentScore("toy.buy", 0.14)),
    "it more cheese": (IntentScore("core.affirm", 0.43), IntentScore("toy.buy", 0.14)),
    "not more milk": (IntentScore("core.out_of_scope", 0.43), IntentScore("toy.buy", 0.3)),
    "oh more milk": (IntentScore("core.out_of_scope", 0.9), IntentScore("toy.buy", 0.05)),
}


class KeywordParser:
    async def parse(self, text: str, lang: str) -> ParseResult:
        """ "buy milk" → toy.buy at 0.95 with product "milk"; "buy milk~0.65" at 0.65."""
        text, _, score = text.partition("~")
        if text in RANKED:
            top, *ranking = RANKED[text]
            return ParseResult(text, lang, top, (), tuple(ranking))
        for key, name in RULES.items():
            if text.startswith(key):
                entities = ()
                if name == "toy.buy" and len(text) > 4:
                    entities = (Entity("product", text[4:], 4, len(text)),)
                return ParseResult(text, lang, IntentScore(name, float(score or 0.95)), entities)
        return ParseResult(text, lang, IntentScore("toy.hello", 0.1))


class Toy(Skill):
    name = "toy"

    @intent("hello")
    async def hello(self, ctx: Context) -> None:
        ctx.say("hi")

    @intent("buy")
    async def buy(self, ctx: Context) -> None:
        product = ctx.slot("product")
        if product is None:
            product = (await ctx.ask("what", slot="product")).value
        if product == "tea":
            picked = await ctx.choose("which", [Option("green tea", "green"), Option("black tea", "black")])
            product = picked.value
        try:
            if await ctx.confirm("sure", product=product):
                ctx.emit("bought", product=product)
                ctx.say("done", product=product)
            else:
                ctx.say("declined")
        except Cancelled as err:
            ctx.emit("cancelled", reason=err.reason)
            raise

    def claims(self, parse: ParseResult, intent: str, lang: str) -> bool:
        """A request to buy milk, however the NLU read it, unless negated."""
        return intent == "toy.buy" and "milk" in parse.text and "not" not in parse.text

    @intent("drop", cancels_pending=True)
    async def drop(self, ctx: Context) -> None:
        ctx.say("nothing")


TEMPLATES = {
    "hi": ["Hello!"],
    "what": ["What should I buy?"],
    "which": ["Green or black?"],
    "sure": ["Buy {product}?"],
    "done": ["Bought {product}."],
    "declined": ["Not buying."],
    "nothing": ["Nothing to drop."],
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def conversation(clock: Clock) -> Conversation:
    return toy_conversation(clock)


def toy_conversation(clock: Clock, **heard: float) -> Conversation:
    """The toy skill in a conversation; `heard`: min_heard / min_heard_request."""
    skill = Toy(SkillEnv(config=None, settings={}))
    loaded = LoadedSkill(
        "toy",
        skill,
        Path("."),
        {f"toy.{i}": getattr(skill, a) for i, a in Toy.handlers().items()},
        Templates("toy", {"en": TEMPLATES}),
    )
    return Conversation(
        [loaded], KeywordParser(), lang="en", services={}, threshold=0.5, timeout_s=60, clock=clock, **heard
    )


async def test_yes_resumes_the_waiting_handler(conversation: Conversation) -> None:
    first = await conversation.handle("buy milk")
    assert (first.reply, first.expecting, first.skill) == ("Buy milk?", "confirmation", "toy")
    second = await conversation.handle("yes")
    assert second.reply == "Bought milk."
    assert second.expecting is None
    assert second.events == ({"type": "bought", "product": "milk"},)


async def test_no_declines(conversation: Conversation) -> None:
    await conversation.handle("buy milk")
    result = await conversation.handle("no")
    assert result.reply == "Not buying."
    assert result.events == ()


async def test_never_mind_cancels_and_handler_sees_it(conversation: Conversation) -> None:
    await conversation.handle("buy milk")
    result = await conversation.handle("never mind")
    assert result.reply == "OK, cancelled."
    assert result.events == ({"type": "cancelled", "reason": "user"},)
    assert (await conversation.handle("yes")).reply == "There's nothing waiting for an answer right now."


async def test_unclear_answer_is_asked_again_then_dropped(conversation: Conversation) -> None:
    await conversation.handle("buy milk")
    again = await conversation.handle("mumble")
    assert again.reply == "Sorry, please answer yes or no."
    assert again.expecting == "confirmation"
    dropped = await conversation.handle("mumble mumble")
    assert dropped.expecting is None
    assert dropped.events == ({"type": "cancelled", "reason": "unclear"},)
    assert "bought" not in [e["type"] for e in dropped.events]


async def test_timeout_drops_the_question_and_a_late_yes_buys_nothing(conversation: Conversation, clock: Clock) -> None:
    await conversation.handle("buy milk")
    clock.now += timedelta(seconds=61)
    late = await conversation.handle("yes")
    assert late.reply.startswith("I stopped waiting")
    assert {"type": "cancelled", "reason": "timeout"} in late.events
    assert not [e for e in late.events if e["type"] == "bought"]


async def test_missing_slot_then_choice_then_confirmation(conversation: Conversation) -> None:
    assert (await conversation.handle("buy")).expecting == "slot:product"
    choice = await conversation.handle("tea")
    assert (choice.reply, choice.expecting) == ("Green or black?", "choice")
    unclear = await conversation.handle("coffee")
    assert unclear.reply == "Sorry, which one: green tea or black tea?"
    confirm = await conversation.handle("the second one")
    assert confirm.reply == "Buy black?"
    assert (await conversation.handle("yes")).reply == "Bought black."


async def test_no_to_which_one_chooses_neither(conversation: Conversation) -> None:
    await conversation.handle("buy tea")
    result = await conversation.handle("no")
    assert (result.reply, result.expecting) == ("OK, cancelled.", None)


async def test_a_new_request_replaces_an_open_question(conversation: Conversation) -> None:
    await conversation.handle("buy milk")
    result = await conversation.handle("buy bread")
    assert result.reply == "Buy bread?"
    assert {"type": "cancelled", "reason": "superseded"} in result.events
    assert (await conversation.handle("yes")).events == ({"type": "bought", "product": "bread"},)


async def test_a_new_request_must_be_fairly_sure_to_replace_an_open_question(conversation: Conversation) -> None:
    await conversation.handle("buy milk")
    unsure = await conversation.handle("buy cheese~0.55")
    assert unsure.expecting == "confirmation" and {"type": "cancelled", "reason": "superseded"} not in unsure.events
    fair = await conversation.handle("buy bread~0.65")  # "for the bananas again" scored 0.72 as a reorder
    assert {"type": "cancelled", "reason": "superseded"} in fair.events and fair.reply == "Buy bread?"


async def test_a_skill_may_claim_what_the_nlu_was_unsure_of(conversation: Conversation) -> None:
    claimed = await conversation.handle("it more milk")
    assert (claimed.reply, claimed.expecting, claimed.skill) == ("What should I buy?", "slot:product", "toy")
    assert claimed.events == (
        {
            "type": "intent_claimed",
            "skill": "toy",
            "intent": "toy.buy",
            "nlu_intent": "core.affirm",
            "nlu_confidence": 0.43,
        },
    )
    await conversation.handle("no")
    # not when the skill does not recognise it, when it is negated, or when the NLU ranked it under the floor
    for text in ("it more cheese", "not more milk", "oh more milk"):
        result = await conversation.handle(text)
        assert result.skill is None and result.expecting is None and result.events == (), text


async def test_a_claimed_request_replaces_an_open_question_but_never_answers_it(conversation: Conversation) -> None:
    await conversation.handle("buy bread")
    claimed = await conversation.handle("it more milk")
    assert claimed.events[0]["type"] == "intent_claimed"
    assert {"type": "cancelled", "reason": "superseded"} in claimed.events and claimed.expecting == "slot:product"
    await conversation.handle("no")
    # an NLU unsure of the new request (under SUPERSEDE_CONFIDENCE), which the skill recognises
    await conversation.handle("buy bread")
    unsure = await conversation.handle("buy milk~0.55")
    assert {"type": "cancelled", "reason": "superseded"} in unsure.events and unsure.reply == "Buy milk?"
    # one it does not recognise is an unclear answer: the question stays open
    unclear = await conversation.handle("it more cheese")
    assert (unclear.reply, unclear.expecting) == ("Sorry, please answer yes or no.", "confirmation")
    assert (await conversation.handle("yes")).events == ({"type": "bought", "product": "milk"},)


async def test_an_unsure_utterance_may_be_claimed_as_a_request(clock: Clock) -> None:
    conversation = toy_conversation(clock, min_heard=0.6, min_heard_request=0.45)
    await conversation.handle("buy bread", heard=0.9)
    claimed = await conversation.handle("it more milk", heard=0.5)
    assert {"type": "cancelled", "reason": "superseded"} in claimed.events and claimed.expecting == "slot:product"


async def test_cancelling_intent_of_the_waiting_skill_cancels(conversation: Conversation) -> None:
    await conversation.handle("buy milk")
    result = await conversation.handle("drop it")
    assert result.events == ({"type": "cancelled", "reason": "user"},)
    assert result.expecting is None


async def test_low_confidence_is_not_understood(conversation: Conversation) -> None:
    result = await conversation.handle("qwerty")
    assert result.skill is None
    assert result.reply.startswith("Sorry, I didn't understand")


async def test_a_confident_affirm_that_is_not_worded_as_a_yes_confirms_nothing(conversation: Conversation) -> None:
    await conversation.handle("buy milk")
    result = await conversation.handle("yellow submarine")
    assert result.expecting == "confirmation"
    assert result.reply == "Sorry, please answer yes or no."
    assert result.events == ()
    assert (await conversation.handle("yes please")).events == ({"type": "bought", "product": "milk"},)


async def test_a_mumbled_yes_confirms_nothing_and_the_question_stays_open(clock: Clock) -> None:
    conversation = toy_conversation(clock, min_heard=0.6)
    await conversation.handle("buy milk", heard=0.9)
    mumbled = await conversation.handle("yes", heard=0.3)
    assert mumbled.reply == "Sorry, I didn't catch that. Could you say it again?"
    assert mumbled.events == ({"type": "not_heard", "confidence": 0.3},)
    assert mumbled.expecting == "confirmation"
    nothing = await conversation.handle("", heard=0.0)
    assert nothing.expecting == "confirmation" and nothing.events[0]["type"] == "not_heard"
    assert (await conversation.handle("yes", heard=0.95)).events == ({"type": "bought", "product": "milk"},)


async def test_an_unsure_request_may_lead_to_a_question_but_an_unsure_answer_never_answers(clock: Clock) -> None:
    conversation = toy_conversation(clock, min_heard=0.6, min_heard_request=0.45)
    too_unsure = await conversation.handle("buy milk", heard=0.4)
    assert too_unsure.events == ({"type": "not_heard", "confidence": 0.4},) and too_unsure.expecting is None
    proposal = await conversation.handle("buy milk", heard=0.5)
    assert (proposal.reply, proposal.expecting) == ("Buy milk?", "confirmation")
    unsure_yes = await conversation.handle("yes", heard=0.5)
    assert unsure_yes.events == ({"type": "not_heard", "confidence": 0.5},) and unsure_yes.expecting == "confirmation"
    # an unsure new request still replaces the open question: it only leads to another question
    other = await conversation.handle("buy bread", heard=0.5)
    assert other.events == ({"type": "cancelled", "reason": "superseded"},)
    assert (other.reply, other.expecting) == ("Buy bread?", "confirmation")
    assert (await conversation.handle("yes", heard=0.9)).events == ({"type": "bought", "product": "bread"},)


async def test_an_unsure_no_declines_as_an_unsure_request_may_start(clock: Clock) -> None:
    conversation = toy_conversation(clock, min_heard=0.6, min_heard_request=0.45)
    await conversation.handle("buy milk", heard=0.9)
    # a "no" heard at 0.55 (Piper's "No." once cut) declines: nothing can be ordered by it
    declined = await conversation.handle("no", heard=0.55)
    assert (declined.reply, declined.expecting, declined.events) == ("Not buying.", None, ())
    # under the bar of a request it is asked again, as anything else is
    await conversation.handle("buy milk", heard=0.9)
    too_unsure = await conversation.handle("no", heard=0.4)
    assert too_unsure.events == ({"type": "not_heard", "confidence": 0.4},) and too_unsure.expecting == "confirmation"
    # a "no" the NLU itself doubts is not taken unsure either
    doubted = await conversation.handle("no~0.5", heard=0.55)
    assert doubted.events == ({"type": "not_heard", "confidence": 0.55},) and doubted.expecting == "confirmation"
    # "never mind" heard unsure cancels
    cancelled = await conversation.handle("never mind", heard=0.55)
    assert cancelled.events == ({"type": "cancelled", "reason": "user"},) and cancelled.expecting is None


async def test_an_unsure_no_to_which_one_cancels_but_never_picks(clock: Clock) -> None:
    conversation = toy_conversation(clock, min_heard=0.6, min_heard_request=0.45)
    assert (await conversation.handle("buy tea", heard=0.9)).expecting == "choice"
    # "no, the green one" names an option: unsure, it picks nothing and is asked again
    picked = await conversation.handle("no, the green one", heard=0.55)
    assert picked.events == ({"type": "not_heard", "confidence": 0.55},) and picked.expecting == "choice"
    neither = await conversation.handle("no", heard=0.55)
    assert (neither.reply, neither.expecting) == ("OK, cancelled.", None)


def test_slots_heard_is_the_mean_confidence_of_the_words_inside_entity_spans() -> None:
    parse = ParseResult(
        "buy baked beans", "en", IntentScore("toy.buy", 0.9), (Entity("product", "baked beans", 4, 15),)
    )
    words = heard_words("buy baked beans", 0.1, 0.9, 0.8)
    assert slots_heard(parse, words) == pytest.approx(0.85)
    assert slots_heard(parse, ()) is None
    assert slots_heard(ParseResult("buy", "en", IntentScore("toy.buy", 0.9)), words) is None
    # a word the recogniser doubted (under DOUBTED, 0.2) does not count: "nasty biscuits" said "digestive"
    assert slots_heard(parse, heard_words("buy baked beans", 0.9, 0.04, 0.95)) == pytest.approx(0.95)
    assert slots_heard(parse, heard_words("buy baked beans", 0.9, 0.04, 0.1)) is None


def test_spans_from_the_skill_stand_in_for_slots_only_when_the_nlu_tagged_none() -> None:
    text = "buy tins baked beans"
    words = heard_words(text, 0.3, 0.9, 0.1, 0.95)
    bare = ParseResult(text, "en", IntentScore("toy.buy", 0.4))
    beans = [(text.index("beans"), len(text))]
    assert slots_heard(bare, words) is None
    assert slots_heard(bare, words, beans) == pytest.approx(0.95)
    assert request_heard(0.2, bare, words, beans) == pytest.approx(0.575)
    # the NLU's own slots win over the skill's spans
    tagged = ParseResult(text, "en", IntentScore("toy.buy", 0.9), (Entity("product", "tins", 4, 8),))
    assert slots_heard(tagged, words, beans) == pytest.approx(0.9)


def test_request_heard_lifts_a_request_whose_slots_were_heard_clearly_never_lowers_it() -> None:
    parse = ParseResult(
        "buy baked beans", "en", IntentScore("toy.buy", 0.9), (Entity("product", "baked beans", 4, 15),)
    )
    assert request_heard(0.3, parse, heard_words("buy baked beans", 0.05, 0.9, 1.0)) == pytest.approx(0.625)
    assert request_heard(0.8, parse, heard_words("buy baked beans", 0.9, 0.5, 0.5)) == 0.8  # slots worse: unchanged
    assert request_heard(0.3, parse) == 0.3  # no word confidences (Whisper over 30 s, typed text)


async def test_a_request_with_clearly_heard_slots_starts_although_the_whole_scored_low(clock: Clock) -> None:
    conversation = toy_conversation(clock, min_heard=0.6, min_heard_request=0.45)
    # "buy" mumbled, "milk" clear: (0.3 + 0.95) / 2 = 0.625 ≥ 0.45, a proposal to confirm
    proposal = await conversation.handle("buy milk", heard=0.3, words=heard_words("buy milk", 0.05, 0.95))
    assert (proposal.reply, proposal.expecting) == ("Buy milk?", "confirmation")
    # the answer is judged on the whole transcript only: a "yes" heard at 0.3 answers nothing
    unsure_yes = await conversation.handle("yes", heard=0.3, words=heard_words("yes", 0.99))
    assert unsure_yes.events == ({"type": "not_heard", "confidence": 0.3},) and unsure_yes.expecting == "confirmation"
    assert (await conversation.handle("yes", heard=0.9)).events == ({"type": "bought", "product": "milk"},)


async def test_a_request_whose_slots_were_not_heard_clearly_is_asked_again(clock: Clock) -> None:
    conversation = toy_conversation(clock, min_heard=0.6, min_heard_request=0.45)
    # mumbling that happens to contain a product word: (0.0 + 0.68) / 2 = 0.34 < 0.45
    mumble = await conversation.handle("buy milk", heard=0.0, words=heard_words("buy milk", 0.02, 0.68))
    assert mumble.events == ({"type": "not_heard", "confidence": 0.0},) and mumble.expecting is None
    unclear = await conversation.handle("buy milk", heard=0.3, words=heard_words("buy milk", 0.9, 0.4))
    assert unclear.events == ({"type": "not_heard", "confidence": 0.3},) and unclear.expecting is None
