"""Wire the pieces together: config → database → retailer → order book → skills → NLU → conversation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from .config import Config
from .dialogue import Conversation, Parser, utc_now
from .loader import LoadedSkill, discover, load_skills, nlu_sources
from .orders import OrderBook
from .retailers.base import Retailer
from .retailers.registry import create_retailer
from .storage.db import open_db

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class App:
    """A running assistant: everything a conversation needs."""

    config: Config
    """The validated configuration."""
    engine: Engine
    """The household database."""
    retailer: Retailer
    """The configured retailer adapter."""
    orders: OrderBook
    """Order placement and history."""
    skills: list[LoadedSkill]
    """Enabled skills, set up."""
    nlu: Parser
    """The NLU client."""
    clock: Callable[[], datetime]
    """The clock every part reads."""

    def conversation(self, lang: str | None = None) -> Conversation:
        """A fresh conversation in `lang` (default: config.language)."""
        return Conversation(
            self.skills,
            self.nlu,
            lang=lang or self.config.language,
            services=self.services,
            threshold=self.config.nlu.confidence_threshold,
            timeout_s=self.config.dialogue.timeout_s,
            clock=self.clock,
            min_heard=self.config.listen.min_confidence,
        )

    @property
    def services(self) -> dict[str, Any]:
        return {"db": self.engine, "retailer": self.retailer, "orders": self.orders, "clock": self.clock}

    async def close(self) -> None:
        """Release what the app holds: the NLU client's connections, the in-process shop, the database."""
        for resource in (self.nlu, self.retailer):
            closer = getattr(resource, "aclose", None)
            if closer is not None:
                await closer()
        self.engine.dispose()


async def build_app(
    config: Config,
    progress: Progress,
    *,
    nlu: Parser | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> App:
    """Open the household, resume interrupted orders, load skills and attach to (or start) the NLU."""
    engine = open_db(config.db_path)
    retailer = create_retailer(config, engine, clock)
    orders = OrderBook(engine, retailer, clock)
    resumed = await orders.reconcile()
    for order in resumed:
        progress(
            f"Resumed interrupted order {order.id}: now {order.state}"
            + (f" ({order.retailer_order_id})" if order.retailer_order_id else "")
        )
    services = {"db": engine, "retailer": retailer, "orders": orders, "clock": clock}
    skills = load_skills(config, services)
    for loaded in skills:
        await loaded.skill.setup()
    if nlu is None:
        from .nlu.service import connect

        nlu = await connect(config, nlu_sources(config, discover(config)), progress)
    return App(config, engine, retailer, orders, skills, nlu, clock)
