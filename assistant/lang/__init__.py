"""Language helpers shared by skills: text folding, cached spaCy pipelines, number words and ordinals,
word similarity by spelling and by sound.

Everything here is language data and language processing only; no skill's vocabulary belongs here.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable

log = logging.getLogger(__name__)


def warm_up(langs: Iterable[str]) -> None:
    """Load what the first utterance in each language would otherwise wait for (the French spaCy model
    takes seconds); blocking, so call it from a thread (`asyncio.to_thread`) at start-up."""
    from .lexicon import is_word
    from .nlp import nlp

    for lang in langs:
        nlp(lang)("warm up")
        is_word("warm", lang)


def warm_up_in_background(langs: Iterable[str]) -> dict[str, asyncio.Future[None]]:
    """Warm up each language in turn in a daemon thread; one future per language completes when it is ready.

    Not `asyncio.to_thread`: the default executor is joined when the event loop closes, so a short
    session (`assistant chat --script`) would wait seconds at exit for a model it never used.
    """
    loop = asyncio.get_running_loop()
    ready: dict[str, asyncio.Future[None]] = {lang: loop.create_future() for lang in langs}

    def finish(future: asyncio.Future[None], err: BaseException | None) -> None:
        if future.done():
            return
        if err is None:
            future.set_result(None)
        else:
            future.set_exception(err)

    def run() -> None:
        for lang, future in ready.items():
            err: BaseException | None = None
            try:
                warm_up([lang])
            except Exception as caught:  # handed to whoever awaits this language
                err = caught
            try:
                loop.call_soon_threadsafe(finish, future, err)
            except RuntimeError:  # the loop closed first: nobody is waiting any more
                return

    threading.Thread(target=run, name="lang-warm-up", daemon=True).start()
    return ready
