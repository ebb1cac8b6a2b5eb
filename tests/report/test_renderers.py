"""HTML (self-contained, no external URL), Markdown with PNGs beside it, and the terminal."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("jinja2")

from rich.console import Console  # noqa: E402

from detente.report._sample import sample_report  # noqa: E402
from detente.report.html import render_html, template_env, write_html  # noqa: E402
from detente.report.markdown import write_markdown  # noqa: E402
from detente.report.model import EvidenceRow  # noqa: E402
from detente.report.terminal import print_report  # noqa: E402


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "data", "poster", "srcset") and value:
                self.refs.append((tag, name, value))


def assert_self_contained(html: str) -> _Refs:
    """No external URL: every src/href is a data: URI or an in-page anchor."""
    assert not re.search(r"https?://", html, re.IGNORECASE), "an http(s) address is present"
    assert not re.search(r"(?<![\w-])//[\w.-]+\.[a-z]{2,}/", html), "a protocol-relative URL"
    p = _Refs()
    p.feed(html)
    for tag, name, value in p.refs:
        assert value.startswith(("data:", "#")), f"<{tag} {name}={value[:60]!r}> leaves the file"
    assert "@import" not in html and "url(" not in html.replace("data:", "")
    assert "link" not in p.tags and "iframe" not in p.tags
    return p


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(sample_report())


def test_html_is_self_contained(html: str) -> None:
    p = assert_self_contained(html)
    imgs = [v for t, n, v in p.refs if t == "img"]
    assert len(imgs) == 15 and all(v.startswith("data:image/png;base64,") for v in imgs)


def test_html_has_every_section_and_provenance(html: str) -> None:
    for anchor in ("summary", "forecasts", "positions", "power", "quad", "bargains",
                   "montecarlo", "sensitivity", "conflict", "proposal", "backtest",
                   "provenance", "evidence"):
        assert f'id="{anchor}"' in html
    assert "0" * 64 in html  # scenario hash
    assert "Moscow restated its claim" in html  # the paraphrase
    assert "example.org/briefing" in html  # the source address, as text without its scheme
    assert "stance us / guarantees" in html  # inputs without evidence are listed
    assert "Q=1.0" in html and "vetoed by Russia" in html


def test_free_text_urls_are_defanged() -> None:
    rep = sample_report()
    rep = rep.model_copy(update={
        "notes": ["see https://example.com/x and http://a.b/c"],
        "provenance": rep.provenance.model_copy(update={"evidence": [EvidenceRow(
            input="x", source="s", source_url="HTTPS://EXAMPLE.ORG/Y", paraphrase="p")]})})
    html = render_html(rep, figures=[])
    assert_self_contained(html)
    assert "example.com/x" in html


def test_write_html(tmp_path: Path) -> None:
    out = write_html(sample_report(), tmp_path / "r.html", figures=[])
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_templates_are_extendable(tmp_path: Path) -> None:
    import jinja2

    (tmp_path / "page.html").write_text(
        '{% extends "base.html" %}{% import "partials/macros.html" as m %}'
        '{% block content %}{{ m.figure(fig) }}{% endblock %}')
    env = template_env([jinja2.FileSystemLoader(str(tmp_path))])

    class Fig:
        key, title, caption, src, details = "k", "T", "C", "/figures/k.png", []

    out = env.get_template("page.html").render(fig=Fig())
    assert 'src="/figures/k.png"' in out and "<style>" in out


def test_markdown_writes_pngs_beside(tmp_path: Path) -> None:
    md = write_markdown(sample_report(), tmp_path / "out" / "report.md")
    text = md.read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 15
    for link in links:
        assert not link.startswith("/") and (md.parent / link).is_file()
    assert "| expected_utility | 33.50 |" in text
    assert "Moscow restated its claim" in text


def test_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    console = Console(width=140, record=True)
    print_report(sample_report(), console)
    text = console.export_text()
    assert "Sample talks" in text and "33.50" in text and "19.0-50.2" in text
    assert "VETO" in text and "Agreement set on territory: [15.0, 31.7]" in text
