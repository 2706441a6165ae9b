"""Push-to-talk: a key in the terminal running `assistant listen`, or a push button on a Raspberry Pi's GPIO.

A press is remembered until it is consumed, by `wait()` (idle) or `pressed_nowait()` (checked on every
audio block, e.g. to barge in while the assistant speaks). Presses arrive on other threads (the
terminal reader, gpiozero's callbacks) and reach the event loop through `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import atexit
import codecs
import logging
import os
import select
import sys
import termios
import threading
import tty
import warnings
from typing import Any

from ..errors import ConfigError

log = logging.getLogger(__name__)

#: Debounce time of the GPIO button, seconds.
BOUNCE_S = 0.05
#: Characters each named key sends in cbreak mode (Enter arrives as "\n" unless the terminal maps it).
NAMED_KEYS = {"space": frozenset({" "}), "enter": frozenset({"\n", "\r"})}


class _Trigger:
    """A source of push-to-talk presses."""

    kind = "trigger"

    def __init__(self) -> None:
        self.presses = 0
        """How many presses were seen (consumed or not)."""
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = _running_loop()

    async def wait(self) -> str:
        """Wait for a press; its kind (`key` or `gpio`)."""
        self._loop = asyncio.get_running_loop()
        await self._event.wait()
        self._event.clear()
        return self.kind

    def pressed_nowait(self) -> bool:
        """Consume a pending press, if any, without waiting."""
        if not self._event.is_set():
            return False
        self._event.clear()
        return True

    def close(self) -> None:
        """Stop listening for presses."""

    def _press(self) -> None:
        """Record a press; safe from any thread."""
        self.presses += 1
        log.debug("push-to-talk press (%s)", self.kind)
        loop = self._loop
        if loop is None or loop.is_closed() or _running_loop() is loop:
            self._event.set()  # no loop to hand over to, or already on it
            return
        try:
            loop.call_soon_threadsafe(self._event.set)
        except RuntimeError:  # the loop closed meanwhile: nobody waits any more
            self._event.set()


class KeyTrigger(_Trigger):
    """A key pressed in the terminal (`space`, `enter` or a single character), read in cbreak mode."""

    kind = "key"

    def __init__(self, key: str = "space", stream: Any = None) -> None:
        super().__init__()
        self.key = key
        """The push-to-talk key as configured (`wake.key`)."""
        self._chars = _key_chars(key)
        self._fd = _fileno(sys.stdin if stream is None else stream)
        self._saved: list[Any] | None = None
        self._wakeup: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None
        if self.available:
            self._start()

    @property
    def available(self) -> bool:
        """True when the stream is a terminal (keys cannot be read one by one from a pipe or file)."""
        return self._fd is not None and os.isatty(self._fd)

    def close(self) -> None:
        """Stop reading keys and give the terminal its settings back."""
        if self._wakeup is not None:
            os.write(self._wakeup[1], b"x")
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._saved is not None and self._fd is not None:
            try:
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            except termios.error as err:  # the terminal went away
                log.debug("terminal settings not restored: %s", err)
            self._saved = None
            atexit.unregister(self.close)
        if self._wakeup is not None:
            for fd in self._wakeup:
                os.close(fd)
            self._wakeup = None

    def _start(self) -> None:
        assert self._fd is not None
        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd, termios.TCSANOW)  # keys one by one, not echoed; Ctrl-C still interrupts
        atexit.register(self.close)  # never leave the terminal in cbreak mode
        self._wakeup = os.pipe()
        self._thread = threading.Thread(target=self._read_keys, name="push-to-talk-key", daemon=True)
        self._thread.start()
        log.info("push-to-talk: press %s in this terminal", self.key)

    def _read_keys(self) -> None:
        assert self._fd is not None and self._wakeup is not None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
        while True:
            readable, _, _ = select.select([self._fd, self._wakeup[0]], [], [])
            if self._wakeup[0] in readable:
                return
            try:
                data = os.read(self._fd, 64)
            except OSError as err:  # the terminal closed
                log.debug("push-to-talk key reader stopped: %s", err)
                return
            if not data:
                return
            if data.startswith(b"\x1b"):  # arrow and function keys: escape sequences, never the key
                continue
            if any(c in self._chars for c in decoder.decode(data).lower()):
                self._press()


class GpioTrigger(_Trigger):
    """A push button between a GPIO pin (BCM numbering) and ground, read with gpiozero."""

    kind = "gpio"

    def __init__(self, pin: int, pin_factory: Any = None) -> None:
        super().__init__()
        self.pin = pin
        """BCM pin number (`wake.gpio_pin`)."""
        hint = "set wake.gpio_pin: null in config.yml, or run on a Raspberry Pi with the button on that pin"
        try:
            from gpiozero import Button
            from gpiozero.exc import GPIOZeroError, PinFactoryFallback
        except ImportError as err:
            raise ConfigError(f"wake.gpio_pin: gpiozero is not installed ({err})", hint=hint) from err
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PinFactoryFallback)  # one error below says it all
                self._button = Button(pin, pull_up=True, bounce_time=BOUNCE_S, pin_factory=pin_factory)
        except (GPIOZeroError, OSError, RuntimeError) as err:
            message = f"wake.gpio_pin: GPIO pin {pin} cannot be used on this machine ({err})"
            raise ConfigError(message, hint=hint) from err
        self._button.when_pressed = self._press
        log.info("push-to-talk: button on GPIO %d", pin)

    def close(self) -> None:
        """Release the pin."""
        self._button.close()


class Triggers:
    """Any number of push-to-talk sources; the first press wins."""

    def __init__(self, *triggers: KeyTrigger | GpioTrigger) -> None:
        self.triggers = tuple(triggers)
        """The sources, in the order given."""

    async def wait(self) -> str:
        """Wait for a press on any source; its kind (`key` or `gpio`)."""
        waits = [asyncio.ensure_future(t.wait()) for t in self.triggers]
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        first, *others = [t for t, task in zip(self.triggers, waits, strict=True) if task in done]
        for trigger in others:  # pressed at the same moment: keep the press for next time
            trigger._event.set()
        return first.kind

    def pressed_nowait(self) -> str | None:
        """Consume a pending press, if any: its kind (`key` or `gpio`), else None."""
        for trigger in self.triggers:
            if trigger.pressed_nowait():
                return trigger.kind
        return None

    def close(self) -> None:
        """Stop every source (the terminal gets its settings back)."""
        for trigger in self.triggers:
            trigger.close()


def _key_chars(key: str) -> frozenset[str]:
    if key.lower() in NAMED_KEYS:
        return NAMED_KEYS[key.lower()]
    if len(key) == 1 and key.isprintable():
        return frozenset({key.lower()})
    raise ConfigError(f"wake.key: expected 'space', 'enter' or a single character, got {key!r}")


def _fileno(stream: Any) -> int | None:
    if isinstance(stream, int):
        return stream
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
