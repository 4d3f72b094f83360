"""What tools outside the pack (the offline review) may rely on: where a resource keeps its data,
judged exactly as the residency policies judge it, and the pack's never-raising value reader."""

from ._attribution import Located, Subject, Unlocated, place
from ._values import dig

__all__ = ["Located", "Subject", "Unlocated", "dig", "place"]
