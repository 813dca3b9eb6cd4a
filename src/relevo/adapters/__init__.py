"""Adapters: the SQL store, transports and the clock, behind the services' interfaces."""
