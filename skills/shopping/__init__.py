"""Shopping skill: reorder from the household's own order history, with an explicit yes before any order."""

from .skill import ShoppingSkill

__all__ = ["ShoppingSkill"]
