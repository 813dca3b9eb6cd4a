"""The JSON API (FastAPI) over the hub: ``create_app`` in ``relevo.web.app``."""
