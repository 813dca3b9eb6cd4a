"""The relevos the simulated world can drive: the pure engine, a hub, a server over HTTP."""
