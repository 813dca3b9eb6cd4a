"""The foot of every page links to pages that exist and says how to reach a person with
the operator's contact details (``[contact]`` in the operator's terms) as real links."""

from __future__ import annotations

import re

import pytest

from relevo.domain.operator_terms import OperatorContact

from .pages import Site


def _foot(html: str) -> str:
    found = re.search(r'<footer class="foot">(.*?)</footer>', html, re.S)
    assert found, html
    return found.group(1)


def _hrefs(html: str) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]+)"', html)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_footer_links_lead_somewhere(site: Site, lang: str) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    for path in (f"/my/processes/{process_id}", "/my", "/p/new"):
        foot = _foot(site.client.get(f"{path}?lang={lang}").text)
        links = _hrefs(foot)
        assert "tel:1004" in links, foot
        for link in links:
            if link.startswith("/"):
                answer = site.client.get(link)
                assert answer.status_code == 200, (link, answer.status_code)
        # No words that look like links but lead nowhere.
        assert "Privacidad" not in foot and "Privacy" not in foot


def test_the_help_link_has_a_target_on_every_page(site: Site) -> None:
    process_id = site.scheduled()
    site.sign_in(process_id)
    for path in (f"/my/processes/{process_id}", "/my", "/p/new"):
        html = site.client.get(path).text
        help_link = re.search(r'<a href="#([a-z-]+)">Ayuda</a>', html)
        assert help_link, html
        assert f'id="{help_link.group(1)}"' in html


def test_the_operator_sets_its_own_contact_details(site: Site) -> None:
    pages = site.client.app.state.pages  # type: ignore[attr-defined]
    pages.operator = OperatorContact(phone="+34 900 123 456", email="ayuda@example.com")
    foot = _foot(site.client.get("/p/new?lang=en").text)
    assert 'href="tel:+34900123456"' in foot and ">+34 900 123 456<" in foot
    assert 'href="mailto:ayuda@example.com"' in foot
