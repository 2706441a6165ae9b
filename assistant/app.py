"""Wire the pieces together: config → database → retailer → order book → skills → NLU → conversation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from .config import Config
from .devloop import NLUConnector, code_stamps
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
    config_path: Path | None = None
    """The config file `/reload` reads again (None: keep `config`)."""
    connect_nlu: NLUConnector | None = None
    """Trains and attaches the NLU for new data on `/reload` (None: keep `nlu`, e.g. a test's parser)."""
    code_stamps: dict[Path, float] = field(default_factory=dict)
    """Modification times of the skills' code when it was loaded (to say what `/reload` picked up)."""

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
            min_heard_request=self.config.listen.min_request_confidence,
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
    config_path: Path | None = None,
) -> App:
    """Open the household, resume interrupted orders, load skills and attach to (or start) the NLU.

    With `config_path`, `/reload` in the chat REPL reads that file again; with `nlu` given, `/reload`
    keeps that parser instead of retraining."""
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
    available = discover(config)
    skills = load_skills(config, services)
    for loaded in skills:
        await loaded.skill.setup()
    connector: NLUConnector | None = None
    if nlu is None:
        from .nlu.service import connect

        connector = connect
        nlu = await connect(config, nlu_sources(config, available), progress)
    return App(config, engine, retailer, orders, skills, nlu, clock, config_path, connector, code_stamps(available))
