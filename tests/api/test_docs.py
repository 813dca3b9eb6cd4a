"""The API documentation page works offline: its assets come from relevo itself."""

from __future__ import annotations

from .builders import Api


def test_the_docs_page_loads_its_assets_from_relevo_not_a_cdn(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assert "/static/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    script = api.client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000
    assert api.client.get("/static/swagger-ui/swagger-ui.css").status_code == 200
    assert "/docs" not in api.client.get("/openapi.json").json()["paths"]
