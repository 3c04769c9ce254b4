"""Pictures for a committee report in Word: the heat map and the ratings by theme, as PNG and SVG.

Drawn with matplotlib from what `bva report` decides (`report.load_state`: the records and what people typed
into report.xlsx), in the heat map sheet's layout, colours and key, so the pictures show the same final
scores as the report. Each fits an A4 page's text width at 200 dpi, so it pastes into Word unscaled.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from xml.sax.saxutils import escape

from bva_excel.excel.write.heat_map import MARKER_MEANINGS, NO_RATING, key_name, tile_text
from bva_excel.excel.write.report import _tiles
from bva_excel.excel.write.styles import NOT_ANSWERED_COLOUR, text_colour_on
from bva_excel.model.state import AssessmentState
from bva_excel.model.summary import NOT_ANSWERED, theme_counts

DPI = 200
WIDTH = 6.3  # inches: an A4 page (8.27 in) less Word's default margins of 1 in each side, and a little
NO_COLOUR, NO_COLOUR_TEXT = "#F2F2F2", "#404040"  # a tile with no score, as on the 'Heat map' sheet
HEAT_MAP, RATINGS_BY_THEME = "heat map", "ratings by theme"

# The heat map's layout, in inches from the top left of the picture.
MARGIN = 0.12
THEME_WIDTH = 1.6  # the column of theme names
THEME_WRAP = 21  # characters to a line of a theme name: bold 7.5 pt in THEME_WIDTH
TILE_MIN, TILE_MAX = 0.52, 0.8  # a tile's width: room for "PCE007*" in 7.5 pt bold; not absurdly wide
TILE_HEIGHT, TILE_GAP, THEME_GAP = 0.36, 0.035, 0.1  # two lines: the ref and markers, the rating's label
KEY_LINE, KEY_TEXT_LINE = 0.24, 0.125  # a key entry; each further line of its meaning
TILE_FONT, TEXT_FONT, SMALL_FONT, TITLE_FONT = 7.5, 7.5, 7, 11  # points at print size: nothing under 7
# Characters to a line, for text wrapped to the picture's width (DejaVu Sans, with room to spare).
TITLE_WRAP, SUBTITLE_WRAP, MEANING_WRAP = 58, 110, 88


@dataclass(frozen=True)
class TileBox:
    """A tile of the heat-map picture: its characteristic, what it says, its colours and where it is."""

    ref: str
    label: str  # the ref and its markers, then the rating's short label, as on the sheet
    final: str
    colour: str
    text_colour: str
    x: float  # inches from the left of the picture
    y: float  # inches from the top
    width: float
    height: float

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2


@dataclass
class HeatMapLayout:
    width: float
    height: float
    tiles: list[TileBox]
    themes: list[tuple[str, float, float]]  # each theme's name (wrapped), top and height
    key_top: float


def lay_out_heat_map(gathered: AssessmentState, title: str = "", subtitle: str = "") -> HeatMapLayout:
    """Where every tile goes: a band per theme, as many tiles to a line as fit legibly (the same for every
    theme, so the columns line up), more lines where a theme has more characteristics."""
    framework = gathered.framework
    scale = framework.scale
    markers = _tiles(gathered)
    by_theme = [(t, [c for c in framework.characteristics if c.theme == t]) for t in framework.themes]
    widest = max((len(chars) for _, chars in by_theme), default=1) or 1
    room = WIDTH - 2 * MARGIN - THEME_WIDTH
    fit = max(int((room + TILE_GAP) // (TILE_MIN + TILE_GAP)), 1)
    lines = -(-widest // fit)
    per_line = -(-widest // lines)  # balanced: 12 go as 6 and 6, not 9 and 3
    tile_width = min((room + TILE_GAP) / per_line - TILE_GAP, TILE_MAX)
    tiles, themes = [], []
    y = _heading_height(title, subtitle)
    for theme, characteristics in by_theme:
        rows = max(-(-len(characteristics) // per_line), 1)
        band = rows * TILE_HEIGHT + (rows - 1) * TILE_GAP
        themes.append((textwrap.fill(theme.name, THEME_WRAP), y, band))
        for index, characteristic in enumerate(characteristics):
            row, col = divmod(index, per_line)
            final = gathered.decisions[characteristic.ref].final
            rating = scale.find(final) if final else None
            colour = rating.colour if rating else NO_COLOUR
            label = tile_text(characteristic.ref, markers[characteristic.ref].marker,
                              scale.labels[rating.name] if rating else "")
            tiles.append(TileBox(characteristic.ref, label, rating.name if rating else "", colour,
                                 text_colour_on(colour) if rating else NO_COLOUR_TEXT,
                                 MARGIN + THEME_WIDTH + col * (tile_width + TILE_GAP),
                                 y + row * (TILE_HEIGHT + TILE_GAP), tile_width, TILE_HEIGHT))
        y += band + THEME_GAP
    key_top = y + 0.15
    key_height = sum(_key_entry_height(meaning) for *_, meaning in _key_entries(gathered))
    return HeatMapLayout(WIDTH, key_top + 0.22 + key_height + MARGIN, tiles, themes, key_top)


def _heading(title: str, subtitle: str) -> tuple[str, str]:
    """The title and subtitle wrapped to the picture's width: nothing a person wrote is cut short."""
    return textwrap.fill(title, TITLE_WRAP), textwrap.fill(subtitle, SUBTITLE_WRAP)


def _heading_height(title: str, subtitle: str) -> float:
    """Inches from the top of the picture to the first thing under the title and subtitle."""
    title, subtitle = _heading(title, subtitle)
    return MARGIN + 0.2 * (title.count("\n") + 1) + 0.06 + 0.125 * (subtitle.count("\n") + 1) + 0.2


def _write_heading(figure, height: float, title: str, subtitle: str) -> None:
    """The title, and under it the subtitle, at the top left of a figure `height` inches tall."""
    title, subtitle = _heading(title, subtitle)
    figure.text(MARGIN / WIDTH, 1 - MARGIN / height, title, fontsize=TITLE_FONT, fontweight="bold", va="top",
                linespacing=1.15)
    below = MARGIN + 0.2 * (title.count("\n") + 1) + 0.06
    figure.text(MARGIN / WIDTH, 1 - below / height, subtitle, fontsize=SMALL_FONT, color="#595959", va="top",
                style="italic", linespacing=1.15)


def draw_heat_map(gathered: AssessmentState, title: str, subtitle: str):
    """The heat map as a matplotlib figure, laid out by `lay_out_heat_map`, with its key."""
    from matplotlib.figure import Figure  # heavy: loaded only when needed
    from matplotlib.patches import Rectangle  # heavy: loaded only when needed

    layout = lay_out_heat_map(gathered, title, subtitle)
    figure = Figure(figsize=(layout.width, layout.height), dpi=DPI)
    canvas = figure.add_axes((0, 0, 1, 1))
    canvas.set_xlim(0, layout.width)
    canvas.set_ylim(layout.height, 0)  # inches from the top left, as laid out
    canvas.axis("off")
    _write_heading(figure, layout.height, title, subtitle)
    for name, top, band in layout.themes:
        canvas.text(MARGIN, top + band / 2, name, fontsize=TEXT_FONT, fontweight="bold", va="center", ha="left",
                    linespacing=1.1)
        canvas.plot([MARGIN, layout.width - MARGIN], [top + band + THEME_GAP / 2] * 2, color="#D9D9D9", lw=0.5)
    for tile in layout.tiles:
        canvas.add_patch(Rectangle((tile.x, tile.y), tile.width, tile.height, facecolor=tile.colour,
                                   edgecolor="none"))
        canvas.text(*tile.centre, tile.label, fontsize=TILE_FONT, fontweight="bold", color=tile.text_colour,
                    ha="center", va="center", linespacing=1.15)
    _key(canvas, gathered, layout)
    return figure, layout


def _key_entries(gathered: AssessmentState) -> list[tuple[str, str, str, str]]:
    """The sheet's key: each rating and its meaning, no colour, and what the markers mean (name, colour,
    text colour, meaning)."""
    framework = gathered.framework
    example = framework.characteristics[0].ref if framework.characteristics else "CI001"
    labels = framework.scale.labels
    entries = [(key_name(r, labels[r.name]), r.colour, text_colour_on(r.colour), r.meaning)
               for r in framework.scale.ratings]
    return entries + [(f"{NO_RATING}  No colour", NO_COLOUR, NO_COLOUR_TEXT, "Not answered yet.")] + [
        (f"{example}{marker}", NO_COLOUR, NO_COLOUR_TEXT, meaning[:1].upper() + meaning[1:] + ".")
        for marker, meaning in MARKER_MEANINGS.items()]


def _key_entry_height(meaning: str) -> float:
    return KEY_LINE + KEY_TEXT_LINE * textwrap.fill(meaning, MEANING_WRAP).count("\n")


def _key(canvas, gathered: AssessmentState, layout: HeatMapLayout) -> None:
    from matplotlib.patches import Rectangle  # heavy: loaded only when needed

    canvas.text(MARGIN, layout.key_top, "Key", fontsize=TEXT_FONT, fontweight="bold", va="top")
    swatch = 1.25
    top = layout.key_top + 0.22
    for name, colour, text_colour, meaning in _key_entries(gathered):
        canvas.add_patch(Rectangle((MARGIN, top), swatch, KEY_LINE - 0.04, facecolor=colour, edgecolor="none"))
        middle = top + (KEY_LINE - 0.04) / 2
        canvas.text(MARGIN + swatch / 2, middle, name, fontsize=SMALL_FONT, fontweight="bold", color=text_colour,
                    ha="center", va="center")
        canvas.text(MARGIN + swatch + 0.1, middle - 0.055, textwrap.fill(meaning, MEANING_WRAP), fontsize=SMALL_FONT,
                    va="top", ha="left", linespacing=1.2)
        top += _key_entry_height(meaning)


def draw_ratings_by_theme(gathered: AssessmentState, title: str, subtitle: str):
    """A stacked horizontal bar per theme, a segment per rating in the scale's colours, with a legend."""
    from matplotlib.figure import Figure  # heavy: loaded only when needed
    from matplotlib.ticker import MaxNLocator  # heavy: loaded only when needed

    framework = gathered.framework
    counts = theme_counts(framework, {ref: d.final for ref, d in gathered.decisions.items()})
    themes = [textwrap.fill(name, 24) for name in counts.themes]
    heading = _heading_height(title, subtitle)
    height = heading + 0.9 + 0.42 * len(themes)
    figure = Figure(figsize=(WIDTH, height), dpi=DPI)
    chart = figure.add_axes((1.7 / WIDTH, 0.85 / height, 1 - 1.95 / WIDTH, 1 - (heading + 0.85) / height))
    _write_heading(figure, height, title, subtitle)
    left = [0] * len(themes)
    positions = list(range(len(themes)))
    for name in counts.columns:
        rating = framework.scale.find(name) if name != NOT_ANSWERED else None
        colour = rating.colour if rating else NOT_ANSWERED_COLOUR
        values = counts.column(name)
        label = name if not rating or rating.scored else f"{name} (not scored)"
        bars = chart.barh(positions, values, left=left, color=colour, edgecolor="white", linewidth=0.6, height=0.66,
                          label=label)
        chart.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center", fontsize=SMALL_FONT,
                        color=text_colour_on(colour), fontweight="bold")
        left = [a + b for a, b in zip(left, values)]
    chart.set_yticks(positions, themes, fontsize=TEXT_FONT)
    chart.invert_yaxis()  # the first theme on top, as in the table
    most = max(left, default=1) or 1
    chart.set_xlim(0, most)
    # Whole numbers, and only within the bars' reach (a tick past the end would print past the edge).
    chart.set_xticks([t for t in MaxNLocator(integer=True).tick_values(0, most) if 0 <= t <= most])
    chart.tick_params(axis="x", labelsize=SMALL_FONT)
    chart.tick_params(axis="y", length=0)
    chart.set_xlabel("Characteristics", fontsize=SMALL_FONT)
    chart.grid(axis="x", color="#D9D9D9", linewidth=0.5)
    chart.set_axisbelow(True)
    for side in ("top", "right", "left"):
        chart.spines[side].set_visible(False)
    # Two lines at most, read across in the scale's order (matplotlib fills a legend column by column).
    handles, labels = chart.get_legend_handles_labels()
    across = -(-len(handles) // 2) if len(handles) > 4 else len(handles)
    order = [i for col in range(across) for i in range(col, len(handles), across)]
    figure.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower center", ncols=across,
                  fontsize=SMALL_FONT, frameon=False, bbox_to_anchor=(0.5, 0.0), handlelength=1.2, columnspacing=1.2)
    return figure




def describe_heat_map(gathered: AssessmentState, title: str, subtitle: str) -> str:
    """The heat map in words, for a reader who cannot see it (its text alternative): per theme, each rating with
    the refs that have it, in the scale's order, and what the markers mean."""
    framework = gathered.framework
    markers = _tiles(gathered)
    final = {ref: d.final for ref, d in gathered.decisions.items()}
    counts = theme_counts(framework, final)
    lines = [f"{title}: heat map", subtitle, _counted(counts.column_totals(), len(framework.characteristics)), ""]
    for theme in framework.themes:
        characteristics = [c for c in framework.characteristics if c.theme == theme]
        groups: dict[str, list[str]] = {}
        for characteristic in characteristics:
            rating = framework.scale.find(final.get(characteristic.ref, ""))
            groups.setdefault(rating.name if rating else NOT_ANSWERED, []).append(
                characteristic.ref + markers[characteristic.ref].marker)
        said = [f"{name} {len(groups[name])} ({', '.join(groups[name])})"
                for name in framework.scale.names + [NOT_ANSWERED] if name in groups]
        lines.append(f"{theme.name} ({len(characteristics)}): {'; '.join(said) or 'no characteristics'}.")
    lines += ["", "Markers after a ref: " + "; ".join(f"{marker} {meaning}" for marker, meaning in MARKER_MEANINGS.items())
              + "."]
    return "\n".join(lines) + "\n"


def describe_ratings_by_theme(gathered: AssessmentState, title: str, subtitle: str) -> str:
    """The chart of ratings by theme in words: each theme's counts, in the scale's order."""
    framework = gathered.framework
    counts = theme_counts(framework, {ref: d.final for ref, d in gathered.decisions.items()})
    lines = [f"{title}: ratings by theme", subtitle, _counted(counts.column_totals(), len(framework.characteristics)), ""]
    for theme, row in counts.rows.items():
        lines.append(f"{theme}: {_counted(row, sum(row.values()))}")
    return "\n".join(lines) + "\n"


def _counted(counts: dict[str, int], total: int) -> str:
    """'73 characteristics: 9 dark green, 29 light green, 3 not answered.' (ratings with none left out)."""
    said = ", ".join(f"{number} {name.lower()}" for name, number in counts.items() if number)
    return f"{total} characteristic{'s' * (total != 1)}: {said or 'none'}."


def with_text_alternative(svg: str, title: str, description: str) -> str:
    """`svg` with a <title> and a <desc> as the first things in it, which screen readers announce for a picture
    (and role="img" on the root, so that the picture is read as one image, not its hundreds of shapes)."""
    opening = re.search(r"<svg\b[^>]*>", svg)
    if opening is None:  # not an SVG matplotlib wrote: nothing to add to
        return svg
    root = opening.group(0)
    if "role=" not in root:
        root = root[:-1] + ' role="img">'
    alternative = f"\n <title>{escape(title)}</title>\n <desc>{escape(description.strip())}</desc>"
    return svg[:opening.start()] + root + alternative + svg[opening.end():]
