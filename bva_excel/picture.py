"""Pictures for a committee report in Word: the heat map and the ratings by theme, as PNG and SVG.

Drawn with matplotlib from what `bva report` decides (`report.gather`: the records and what people typed
into report.xlsx), in the heat map sheet's layout, colours and key, so the pictures show the same final
scores as the report. Each fits an A4 page's text width at 200 dpi, so it pastes into Word unscaled.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass
from pathlib import Path

from bva_excel.assessment import Assessment
from bva_excel.heatmap import DISAGREEMENT, MODERATED
from bva_excel.report import NOT_ANSWERED, NOT_ANSWERED_COLOUR, Gathered, _tiles, gather, signed_off, theme_counts
from bva_excel.storage import replacing
from bva_excel.styles import text_colour_on

PICTURES = "pictures"  # the default folder, inside the assessment's
DPI = 200
WIDTH = 6.3  # inches: an A4 page (8.27 in) less Word's default margins of 1 in each side, and a little
NO_COLOUR, NO_COLOUR_TEXT = "#F2F2F2", "#404040"  # a tile with no score, as on the 'Heat map' sheet
HEAT_MAP, RATINGS_BY_THEME = "heat map", "ratings by theme"

# The heat map's layout, in inches from the top left of the picture.
MARGIN = 0.12
THEME_WIDTH = 1.6  # the column of theme names
THEME_WRAP = 21  # characters to a line of a theme name: bold 7.5 pt in THEME_WIDTH
TILE_MIN, TILE_MAX = 0.52, 0.8  # a tile's width: room for "PCE007*" in 7.5 pt bold; not absurdly wide
TILE_HEIGHT, TILE_GAP, THEME_GAP = 0.3, 0.035, 0.1
KEY_LINE = 0.24
TILE_FONT, TEXT_FONT, TITLE_FONT = 7.5, 7.5, 11  # points at print size: nothing under 7


@dataclass(frozen=True)
class TileBox:
    """A tile of the heat-map picture: its characteristic, what it says, its colours and where it is."""

    ref: str
    label: str  # the ref and its marker, as on the sheet
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


@dataclass
class PictureResult:
    paths: list[Path]
    layout: HeatMapLayout


def lay_out_heat_map(gathered: Gathered) -> HeatMapLayout:
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
    y = _title_height()
    for theme, characteristics in by_theme:
        rows = max(-(-len(characteristics) // per_line), 1)
        band = rows * TILE_HEIGHT + (rows - 1) * TILE_GAP
        themes.append((textwrap.fill(theme.name, THEME_WRAP), y, band))
        for index, characteristic in enumerate(characteristics):
            row, col = divmod(index, per_line)
            final = gathered.decisions[characteristic.ref].final
            rating = scale.find(final) if final else None
            colour = rating.colour if rating else NO_COLOUR
            tiles.append(TileBox(characteristic.ref, characteristic.ref + markers[characteristic.ref].marker,
                                 rating.name if rating else "", colour,
                                 text_colour_on(colour) if rating else NO_COLOUR_TEXT,
                                 MARGIN + THEME_WIDTH + col * (tile_width + TILE_GAP),
                                 y + row * (TILE_HEIGHT + TILE_GAP), tile_width, TILE_HEIGHT))
        y += band + THEME_GAP
    key_top = y + 0.15
    key_lines = len(scale.ratings) + 3
    return HeatMapLayout(WIDTH, key_top + 0.22 + key_lines * KEY_LINE + MARGIN, tiles, themes, key_top)


def _title_height() -> float:
    return MARGIN + 0.62


def draw_heat_map(gathered: Gathered, title: str, subtitle: str):
    """The heat map as a matplotlib figure, laid out by `lay_out_heat_map`, with its key."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    layout = lay_out_heat_map(gathered)
    figure = Figure(figsize=(layout.width, layout.height), dpi=DPI)
    canvas = figure.add_axes((0, 0, 1, 1))
    canvas.set_xlim(0, layout.width)
    canvas.set_ylim(layout.height, 0)  # inches from the top left, as laid out
    canvas.axis("off")
    _titles(canvas, title, subtitle)
    for name, top, band in layout.themes:
        canvas.text(MARGIN, top + band / 2, name, fontsize=TEXT_FONT, fontweight="bold", va="center", ha="left",
                    linespacing=1.1)
        canvas.plot([MARGIN, layout.width - MARGIN], [top + band + THEME_GAP / 2] * 2, color="#D9D9D9", lw=0.5)
    for tile in layout.tiles:
        canvas.add_patch(Rectangle((tile.x, tile.y), tile.width, tile.height, facecolor=tile.colour,
                                   edgecolor="none"))
        canvas.text(*tile.centre, tile.label, fontsize=TILE_FONT, fontweight="bold", color=tile.text_colour,
                    ha="center", va="center")
    _key(canvas, gathered, layout)
    return figure, layout


def _titles(canvas, title: str, subtitle: str) -> None:
    canvas.text(MARGIN, MARGIN, textwrap.shorten(title, 90), fontsize=TITLE_FONT, fontweight="bold", va="top")
    canvas.text(MARGIN, MARGIN + 0.24, textwrap.fill(subtitle, 120), fontsize=7, color="#595959", va="top",
                style="italic", linespacing=1.15)


def _key(canvas, gathered: Gathered, layout: HeatMapLayout) -> None:
    """The sheet's key: each rating and its meaning, no colour, and what the markers mean."""
    from matplotlib.patches import Rectangle

    scale = gathered.framework.scale
    example = gathered.framework.characteristics[0].ref if gathered.framework.characteristics else "CI001"
    entries = [(r.name if r.scored else f"{r.name} (not scored)", r.colour, text_colour_on(r.colour), r.meaning)
               for r in scale.ratings]
    entries += [("No colour", NO_COLOUR, NO_COLOUR_TEXT, "Not answered yet."),
                (f"{example}{MODERATED}", NO_COLOUR, NO_COLOUR_TEXT,
                 "Score moderated, or set by a senior officer."),
                (f"{example}{DISAGREEMENT}", NO_COLOUR, NO_COLOUR_TEXT,
                 "Reviewers disagree and nobody has moderated it yet.")]
    canvas.text(MARGIN, layout.key_top, "Key", fontsize=TEXT_FONT, fontweight="bold", va="top")
    swatch = 1.25
    for index, (name, colour, text_colour, meaning) in enumerate(entries):
        top = layout.key_top + 0.22 + index * KEY_LINE
        canvas.add_patch(Rectangle((MARGIN, top), swatch, KEY_LINE - 0.04, facecolor=colour, edgecolor="none"))
        canvas.text(MARGIN + swatch / 2, top + (KEY_LINE - 0.04) / 2, name, fontsize=7, fontweight="bold",
                    color=text_colour, ha="center", va="center")
        canvas.text(MARGIN + swatch + 0.1, top + (KEY_LINE - 0.04) / 2, textwrap.shorten(meaning, 115), fontsize=7,
                    va="center", ha="left")


def draw_ratings_by_theme(gathered: Gathered, title: str, subtitle: str):
    """A stacked horizontal bar per theme, a segment per rating in the scale's colours, with a legend."""
    from matplotlib.figure import Figure

    framework = gathered.framework
    counts = theme_counts(framework, {ref: d.final for ref, d in gathered.decisions.items()})
    themes = [textwrap.fill(name, 24) for name in counts.index]
    height = 1.55 + 0.42 * len(themes)
    figure = Figure(figsize=(WIDTH, height), dpi=DPI)
    top = 1 - (MARGIN + 0.62) / height
    chart = figure.add_axes((1.7 / WIDTH, 0.85 / height, 1 - 1.95 / WIDTH, top - 0.85 / height))
    figure.text(MARGIN / WIDTH, 1 - MARGIN / height, textwrap.shorten(title, 90), fontsize=TITLE_FONT,
                fontweight="bold", va="top")
    figure.text(MARGIN / WIDTH, 1 - (MARGIN + 0.24) / height, textwrap.fill(subtitle, 120), fontsize=7,
                color="#595959", va="top", style="italic", linespacing=1.15)
    left = [0] * len(themes)
    positions = list(range(len(themes)))
    for name in counts.columns:
        rating = framework.scale.find(name) if name != NOT_ANSWERED else None
        colour = rating.colour if rating else NOT_ANSWERED_COLOUR
        values = [int(v) for v in counts[name]]
        label = name if not rating or rating.scored else f"{name} (not scored)"
        bars = chart.barh(positions, values, left=left, color=colour, edgecolor="white", linewidth=0.6, height=0.66,
                          label=label)
        chart.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center", fontsize=7,
                        color=text_colour_on(colour), fontweight="bold")
        left = [a + b for a, b in zip(left, values)]
    chart.set_yticks(positions, themes, fontsize=TEXT_FONT)
    chart.invert_yaxis()  # the first theme on top, as in the table
    chart.set_xlim(0, max(left, default=1) or 1)
    chart.xaxis.get_major_locator().set_params(integer=True)
    chart.tick_params(axis="x", labelsize=7)
    chart.tick_params(axis="y", length=0)
    chart.set_xlabel("Characteristics", fontsize=7)
    chart.grid(axis="x", color="#D9D9D9", linewidth=0.5)
    chart.set_axisbelow(True)
    for side in ("top", "right", "left"):
        chart.spines[side].set_visible(False)
    # Two lines at most, read across in the scale's order (matplotlib fills a legend column by column).
    handles, labels = chart.get_legend_handles_labels()
    across = -(-len(handles) // 2) if len(handles) > 4 else len(handles)
    order = [i for col in range(across) for i in range(col, len(handles), across)]
    figure.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower center", ncols=across,
                  fontsize=7, frameon=False, bbox_to_anchor=(0.5, 0.0), handlelength=1.2, columnspacing=1.2)
    return figure


def write_pictures(assessment: Assessment, folder: Path | None = None) -> PictureResult:
    """Write the heat map and the ratings by theme as PNG (200 dpi) and SVG to `folder`
    (default DIR/pictures), each through a temporary file; return the paths written and the heat map's layout."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, whatever the machine has
    from matplotlib import rc_context

    folder = Path(folder) if folder else assessment.folder / PICTURES
    with assessment.locked("picture"):
        gathered = gather(assessment)
        title = assessment.title
        state = signed_off(gathered.signoff)
        now = dt.datetime.now()
        heat_map, layout = draw_heat_map(gathered, title,
                                         f"Heat map of final scores, {now:%d %B %Y}; {state}")
        ratings = draw_ratings_by_theme(gathered, title, f"Final scores by theme, {now:%d %B %Y}; {state}")
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        with rc_context({"svg.hashsalt": "bva", "svg.fonttype": "path"}):  # the same file for the same scores
            for name, figure in [(HEAT_MAP, heat_map), (RATINGS_BY_THEME, ratings)]:
                for kind in ("png", "svg"):
                    path = folder / f"{name}.{kind}"
                    with replacing(path) as temp:
                        figure.savefig(temp, format=kind, dpi=DPI, facecolor="white",
                                       metadata={"Title": f"{title}: {name}"} | (
                                           {"Date": None} if kind == "svg" else {}))
                    paths.append(path)
    return PictureResult(paths, layout)
