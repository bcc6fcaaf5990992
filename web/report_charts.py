"""The SLA report's charts, drawn on the server as SVG with pygal, in the reader's language. Each
is served on its own as image/svg+xml and shown with <img>, its table beside it on the page: pygal
writes its styles into a <style> element, which the pages' Content-Security-Policy (style-src
'self') would block inline, while an image's own styles are its own. Its scripts (the tooltips'
config) are taken out: the charts work without JavaScript and an image runs none anyway."""

from __future__ import annotations

from collections import defaultdict

import pygal
from flask import Response
from flask_babel import get_locale
from flask_babel import gettext as _
from lxml import etree
from pygal.style import Style

from engine.work.reports import SlaReport

# Only this image's own styles; nothing else loads or runs if it is opened as a page of its own.
CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#222222",
    foreground_strong="#111111",
    foreground_subtle="#666666",
    colors=("#1f6f43", "#b3261e", "#1d4f91", "#8a5a00"),
    font_family="system-ui, sans-serif",
    no_data_font_size=20,
)
CHARTS = ("compliance", "decision_hours", "steps", "cerf")
MAX_BARS = 12


def chart_svg(name: str, found: SlaReport) -> Response:
    """The named chart of the report as an SVG response."""
    chart, description = DRAWN[name](found)
    response = Response(_accessible(chart, description), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = CHART_POLICY
    response.headers["Cache-Control"] = "private, no-store"
    return response


def title_of(name: str) -> str:
    return {
        "compliance": _("Decisions within the SLA and breached, by month"),
        "decision_hours": _("Hours to decision: median and 90th percentile"),
        "steps": _("Where the time goes: median hours open per step"),
        "cerf": _("CERF pipeline: open applications by step"),
    }[name]


def _chart(kind, name: str, **config):
    return kind(
        title=title_of(name),
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        width=720,
        height=360,
        explicit_size=True,
        legend_at_bottom=True,
        truncate_legend=-1,
        truncate_label=48,
        print_values=False,
        no_data_text=_("No data for this period"),
        **config,
    )


def _compliance(found: SlaReport):
    months: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in found.rows:
        months[row.month][0] += row.within_sla
        months[row.month][1] += row.breached
    chart = _chart(pygal.StackedBar, "compliance")
    chart.x_labels = sorted(months)
    if months:
        chart.add(_("Within the SLA"), [months[m][0] for m in chart.x_labels])
        chart.add(_("Breached"), [months[m][1] for m in chart.x_labels])
    decided, within, breached = found.totals
    return chart, _(
        "%(decided)d cases decided, %(within)d within the SLA, %(breached)d breached.",
        decided=decided,
        within=within,
        breached=breached,
    )


def _decision_hours(found: SlaReport):
    rows = found.rows[-MAX_BARS:]
    chart = _chart(pygal.HorizontalBar, "decision_hours")
    chart.x_labels = [f"{r.process_name} · {r.office} · {r.month}" for r in rows]
    if rows:
        chart.add(_("Median hours"), [r.median_hours for r in rows])
        chart.add(_("90th percentile hours"), [r.p90_hours for r in rows])
    return chart, _("Median and 90th percentile of the hours from the start of a case to its decision.")


def _steps(found: SlaReport):
    steps = sorted(found.steps, key=lambda s: -(s.median_hours or 0))[:MAX_BARS]
    chart = _chart(pygal.HorizontalBar, "steps", show_legend=False)
    chart.x_labels = [s.title for s in steps]
    if steps:
        chart.add(_("Median hours open"), [s.median_hours for s in steps])
    return chart, _("The steps done in the period, the slowest first, by the median hours each stayed open.")


def _cerf(found: SlaReport):
    stages = found.now.cerf_pipeline[:MAX_BARS]
    chart = _chart(pygal.HorizontalBar, "cerf", show_legend=False)
    chart.x_labels = [s.title for s in stages]
    if stages:
        chart.add(_("Open applications"), [s.cases for s in stages])
    return chart, _("The CERF applications running now, counted at the step each waits at.")


DRAWN = {"compliance": _compliance, "decision_hours": _decision_hours, "steps": _steps, "cerf": _cerf}


def _accessible(chart, description: str) -> bytes:
    """The chart's SVG with its title and a description first, as assistive technology reads
    them, and without pygal's scripts."""
    root = chart.render_tree()  # pygal's elements are unqualified, in the default SVG namespace
    for script in list(root.iter("script")):
        script.getparent().remove(script)
    for old in [child for child in root if child.tag in ("title", "desc")]:
        root.remove(old)
    title = etree.Element("title")
    title.text = chart.config.title
    desc = etree.Element("desc")
    desc.text = description
    root.insert(0, desc)
    root.insert(0, title)
    root.set("role", "img")
    root.set("lang", str(get_locale() or "en"))
    return etree.tostring(root, encoding="utf-8")
