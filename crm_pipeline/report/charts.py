"""Vega-Lite specifications of the report's charts, one function per kind of chart.

The data is aggregated in DuckDB before it gets here (tens of rows, never one per contact), and
goes inline into the specification; the page draws it with the Vega bundle embedded once.
Titles are the section's (a finding, in the page's heading), so the specs carry none.
"""

from __future__ import annotations

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier: never fetched
HEIGHT = 240
CONFIG = {
    "font": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "axis": {"labelFontSize": 12, "titleFontSize": 12, "labelLimit": 220},
    "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom", "columns": 3},
    "view": {"stroke": None},
}


def _spec(rows: list[dict], description: str, **rest) -> dict:
    return {
        "$schema": SCHEMA, "description": description, "width": "container", "height": HEIGHT,
        "autosize": {"type": "fit", "contains": "padding"}, "config": CONFIG,
        "data": {"values": rows}, **rest,
    }


def bar_chart(rows: list[dict], *, category: str, value: str, category_title: str,
              value_title: str, description: str, color: str | None = None,
              color_title: str | None = None, sort: list[str] | None = None,
              value_format: str = ",.0f") -> dict:
    """Horizontal bars (stacked by `color` when given): categories read down, values across."""
    encoding = {
        "y": {"field": category, "type": "nominal", "title": category_title,
              "sort": sort if sort is not None else "-x"},
        "x": {"field": value, "type": "quantitative", "title": value_title,
              "axis": {"format": value_format}, "stack": "zero"},
        "tooltip": [{"field": category, "title": category_title},
                    {"field": value, "title": value_title, "format": value_format}],
    }
    if color:
        encoding["color"] = {"field": color, "type": "nominal", "title": color_title}
        encoding["tooltip"].insert(1, {"field": color, "title": color_title})
    height = max(160, min(28 * len({r[category] for r in rows}) + 40, 600))
    return _spec(rows, description, mark={"type": "bar", "tooltip": True},
                 encoding=encoding) | {"height": height}


def histogram(rows: list[dict], *, bin_label: str, value: str, bin_title: str, value_title: str,
              description: str, order: list[str]) -> dict:
    """Columns of pre-binned counts, bins in the given order."""
    return _spec(rows, description, mark={"type": "bar", "tooltip": True}, encoding={
        "x": {"field": bin_label, "type": "ordinal", "title": bin_title, "sort": order,
              "axis": {"labelAngle": 0}},
        "y": {"field": value, "type": "quantitative", "title": value_title,
              "axis": {"format": ",.0f"}},
    })


def line_chart(rows: list[dict], *, x: str, y: str, series: str, x_title: str, y_title: str,
               series_title: str, description: str) -> dict:
    """One line per series over dates, with a point at each date (a single date still shows);
    steps, since a count holds from one change to the next."""
    return _spec(rows, description, mark={"type": "line", "point": True, "tooltip": True,
                                          "interpolate": "step-after"},
                 encoding={
                     "x": {"field": x, "type": "temporal", "title": x_title},
                     "y": {"field": y, "type": "quantitative", "title": y_title,
                           "axis": {"format": ",.0f"}},
                     "color": {"field": series, "type": "nominal", "title": series_title},
                 })


def heatmap(rows: list[dict], *, x: str, y: str, value: str, x_title: str, y_title: str,
            value_title: str, description: str) -> dict:
    """A matrix of counts (e.g. moves from one stage to another), each cell labelled."""
    base = {"x": {"field": x, "type": "nominal", "title": x_title, "axis": {"labelAngle": 0}},
            "y": {"field": y, "type": "nominal", "title": y_title}}
    return _spec(rows, description, encoding=base, layer=[
        {"mark": {"type": "rect", "tooltip": True},
         "encoding": {"color": {"field": value, "type": "quantitative", "title": value_title}}},
        {"mark": {"type": "text", "fontSize": 12},
         "encoding": {"text": {"field": value, "type": "quantitative", "format": ",.0f"}}},
    ])


def forecast_chart(rows: list[dict], *, currency: str, description: str) -> dict:
    """Revenue by month: each series' 80% interval as a band and its expectation as a line;
    the back-test's actual revenue as points on top."""
    y_title = f"Revenue per month ({currency})"
    x = {"field": "month", "type": "temporal", "title": "Month", "timeUnit": "yearmonth"}
    color = {"field": "series", "type": "nominal", "title": "Series",
             "scale": {"domain": ["back-test", "forecast"], "range": ["#8c6d31", "#3366cc"]}}
    return _spec(rows, description, layer=[
        {"mark": {"type": "area", "opacity": 0.25},
         "encoding": {"x": x, "y": {"field": "low", "type": "quantitative", "title": y_title,
                                    "axis": {"format": ",.0f"}},
                      "y2": {"field": "high"}, "color": color}},
        {"mark": {"type": "line", "point": True, "tooltip": True},
         "encoding": {"x": x, "y": {"field": "expected", "type": "quantitative"},
                      "color": color}},
        {"transform": [{"filter": "datum.actual != null"}],
         "mark": {"type": "point", "shape": "diamond", "filled": True, "size": 90,
                  "color": "#111", "tooltip": True},
         "encoding": {"x": x, "y": {"field": "actual", "type": "quantitative"}}},
    ])
