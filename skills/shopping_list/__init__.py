"""Shopping-list skill: add, remove, read back and clear the household's list, and order it through the
shopping skill with one confirmation."""

from .skill import ShoppingListSkill

__all__ = ["ShoppingListSkill"]
