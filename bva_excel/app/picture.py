"""app.picture"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from bva_excel.app.state import STATE_STEPS, load_state
from bva_excel.model.decisions import signed_off
from bva_excel.model.state import AssessmentState
from bva_excel.render.picture import (
    DPI,
    HEAT_MAP,
    RATINGS_BY_THEME,
    HeatMapLayout,
    describe_heat_map,
    describe_ratings_by_theme,
    draw_heat_map,
    draw_ratings_by_theme,
    with_text_alternative,
)
from bva_excel.store.files import FilesPlaced, replacing, writing
from bva_excel.store.folder import Assessment
from bva_excel.tracking import QUIET, Tracker

PICTURES = "pictures"  # the default folder, inside the assessment's


@dataclass
class PictureResult:
    paths: list[Path]
    layout: HeatMapLayout


def subtitle(what: str, gathered: AssessmentState, day: dt.date) -> str:
    """What the picture shows, on what day, and whether the scores are signed off."""
    return f"{what}, {day:%d %B %Y}; {signed_off(gathered.signoff, {ref: d.final for ref, d in gathered.decisions.items()})}"


def write_pictures(assessment: Assessment, folder: Path | None = None, tracker: Tracker = QUIET) -> PictureResult:
    """Write the heat map and the ratings by theme as PNG (200 dpi) and SVG to `folder`
    (default DIR/pictures), with each picture's text alternative: in the SVG (its title and description) and as
    a .txt file beside the PNG. Each file goes through a temporary file, all six put in place together (none, if
    one cannot be written); return the paths written and the heat map's layout."""

    import matplotlib  # heavy: loaded only when needed

    matplotlib.use("Agg")  # files only: no window, whatever the machine has
    # matplotlib's own word on its font cache (which it cannot save on a full disk) would come before ours.
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    from matplotlib import rc_context  # heavy: loaded only when needed

    folder = Path(folder) if folder else assessment.folder / PICTURES
    with assessment.reading("picture"):
        tracker.start(STATE_STEPS + 4, "steps")
        gathered = load_state(assessment, tracker=tracker)
        title = assessment.title
        today = dt.date.today()
        heat_map_subtitle = subtitle("Heat map of final scores", gathered, today)
        ratings_subtitle = subtitle("Final scores by theme", gathered, today)
        heat_map, layout = draw_heat_map(gathered, title, heat_map_subtitle)
        ratings = draw_ratings_by_theme(gathered, title, ratings_subtitle)
        described = {HEAT_MAP: describe_heat_map(gathered, title, heat_map_subtitle),
                     RATINGS_BY_THEME: describe_ratings_by_theme(gathered, title, ratings_subtitle)}
        with writing(folder):
            folder.mkdir(parents=True, exist_ok=True)
        paths, placed = [], FilesPlaced()
        # Text as outlines, so that the SVG looks the same without our fonts; ids fixed, as the date above.
        with rc_context({"svg.hashsalt": "bva", "svg.fonttype": "path"}), placed.together():
            for name, figure in [(HEAT_MAP, heat_map), (RATINGS_BY_THEME, ratings)]:
                for kind in ("png", "svg"):
                    path = folder / f"{name}.{kind}"
                    heading = f"{title}: {name}"
                    metadata: dict[str, str | None] = {"Title": heading}
                    if kind == "svg":
                        metadata["Date"] = None  # the same scores make the same file
                    with replacing(path, placed) as temp:
                        figure.savefig(temp, format=kind, dpi=DPI, facecolor="white", metadata=metadata)
                        if kind == "svg":
                            drawn = Path(temp).read_text(encoding="utf-8")
                            Path(temp).write_text(with_text_alternative(drawn, heading, described[name]),
                                                  encoding="utf-8")
                    paths.append(path)
                    tracker.advance(f"drew {path.name}")
            for name, text in described.items():  # beside the PNG, for the document it is pasted into
                path = folder / f"{name}.txt"
                with replacing(path, placed) as temp:
                    Path(temp).write_text(text, encoding="utf-8")
                paths.append(path)
    return PictureResult(paths, layout)


