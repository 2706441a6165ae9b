"""Help skill: "what can you do?" lists what the enabled skills can do, from their own metadata."""

from .skill import HelpSkill

__all__ = ["HelpSkill"]
