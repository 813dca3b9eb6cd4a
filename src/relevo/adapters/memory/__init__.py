"""A store kept in memory: the services' Protocols without a database (tests, experiments)."""

from relevo.adapters.memory.store import MemoryStore, MemoryUnitOfWork

__all__ = ["MemoryStore", "MemoryUnitOfWork"]
