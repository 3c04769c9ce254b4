"""The heat map: one tile per characteristic, grouped by theme, coloured by its final score.

Tiles are coloured by conditional formats that look up the final score on the 'Scores' sheet, so a
moderated score typed into the report recolours the map in Excel straight away.
"""

from __future__ import annotations

from dataclasses import dataclass

from bva_excel.excel.write.styles import (
    countifs_criterion,
    print_landscape,
    text_colour_on,
)
from bva_excel.layout import HEAT_MAP_SHEET
from bva_excel.model.framework import Framework

FIRST_TILE_ROW = 4


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


MODERATED = "*"  # shown after the ref on a tile whose score was moderated or set by a senior officer
DISAGREEMENT = "!"  # shown on a tile whose reviewers disagree and nobody has moderated it yet
CHANGED = "Δ"  # shown on a tile whose final score is not the one signed off
MARKERS = (MODERATED, DISAGREEMENT, CHANGED)
NO_RATING = "–"  # the second line of a tile with no final score on the scale: not answered yet
MARKER_MEANINGS = {
    MODERATED: "score moderated, or set by a senior officer",
    DISAGREEMENT: "reviewers disagree and nobody has moderated it yet",
    CHANGED: "final score changed since sign-off",
}
AS_WRITTEN = " (as when this report was written)"  # a marker on the sheet does not follow what is typed after


def tile_text(ref: str, marker: str, label: str) -> str:
    """What a tile says, on two lines: its ref and markers, then its rating's short label (so that it is read
    without its colour: in black and white, or by a reader who cannot tell the colours apart)."""
    return f"{ref}{marker}\n{label or NO_RATING}"


@dataclass(frozen=True)
class Tile:
    """What a tile says besides its colour: a marker after the ref, and a note with the background."""

    marker: str = ""
    note: str = ""


def _counts_line(names: list[str], final_range: str) -> str:
    """A formula for '73 characteristics: 10 dark green, 29 light green, ... 3 not answered.', counting the
    final scores on 'Scores' as they are now, so the line follows a score moderated in Excel (ratings with
    none are left out; a final score that is not on the scale counts as not answered)."""
    counts = [f"COUNTIFS({final_range},{countifs_criterion(name)})" for name in names]
    parts = [f'IF({count}>0,{count}&{_quoted(" " + name.lower() + ", ")},"")' for name, count in zip(names, counts)]
    unanswered = f"ROWS({final_range})-({'+'.join(counts)})"
    parts.append(f'IF({unanswered}>0,{unanswered}&" not answered, ","")')
    listed = "&".join(parts)
    return f'=ROWS({final_range})&" characteristics: "&LEFT({listed},LEN({listed})-2)&"."'


def key_name(rating, label: str) -> str:
    """A rating in the key: the label its tiles carry, then its name ('DG  Dark green')."""
    name = rating.name if rating.scored else f"{rating.name} (not scored)"
    return name if label == rating.name else f"{label}  {name}"


def tile_note(characteristic, scores: list[tuple[str, str]], final: str, how: str, open_findings: list[str]) -> str:
    """The text of a tile's note: the characteristic, each reviewer's score, the final score and why."""
    lines = [f"{characteristic.ref} {characteristic.text}"[:300], ""]
    lines += [f"{who}: {rating or 'not answered'}" for who, rating in scores] or ["No reviewer has scored it yet."]
    lines += ["", f"Final score: {final or 'none yet'}{f' ({how})' if how else ''}"]
    lines += [f"Open: {finding}" for finding in open_findings]
    return "\n".join(lines)


def write_heat_map(workbook, framework: Framework, final: dict[str, str], title: str, subtitle: str,
                   ref_range: str, final_range: str, tiles: dict[str, Tile] | None = None,
                   scale_ranges: tuple[str, str] = ("", "")) -> None:
    """Write the sheet; `ref_range` and `final_range` are absolute ranges on 'Scores', `scale_ranges` the
    ratings' names and short labels on 'Scale'; `tiles` adds markers and notes by ref.

    A tile's label is a formula looking its final score up on 'Scores' and its label on 'Scale', and its colour
    a conditional format looking up the same score: a moderated score typed in Excel changes both at once."""
    tiles = tiles or {}
    sheet = workbook.add_worksheet(HEAT_MAP_SHEET)
    themes = framework.themes
    by_theme = {t: [c for c in framework.characteristics if c.theme == t] for t in themes}
    widest = max(len(v) for v in by_theme.values())
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, widest, 9)
    sheet.write_string(0, 0, title, workbook.add_format({"bold": True, "font_size": 16}))
    sheet.write_string(1, 0, subtitle, workbook.add_format({"italic": True, "font_color": "#595959"}))
    theme_format = workbook.add_format({"bold": True, "valign": "vcenter", "text_wrap": True,
                                        "bottom": 1, "bottom_color": "#D9D9D9"})
    tile = workbook.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 2, "text_wrap": True,
                                "border_color": "#FFFFFF", "bg_color": "#F2F2F2", "font_color": "#404040"})
    names_range, labels_range = scale_ranges
    labels = framework.scale.labels
    sheet.write_string(FIRST_TILE_ROW - 1, 0, "Theme", workbook.add_format({"bold": True}))
    sheet.write_string(FIRST_TILE_ROW - 1, 1, "Characteristics (ref), coloured and labelled by final score",
                       workbook.add_format({"bold": True}))
    for offset, theme in enumerate(themes):
        row = FIRST_TILE_ROW + offset
        sheet.set_row(row, 32)
        sheet.write_string(row, 0, theme.name, theme_format)
        for col, characteristic in enumerate(by_theme[theme], start=1):
            extra = tiles.get(characteristic.ref, Tile())
            rating = framework.scale.find(final.get(characteristic.ref, ""))
            score = f"INDEX({final_range},MATCH({_quoted(characteristic.ref)},{ref_range},0))"
            label = f"INDEX({labels_range},MATCH({score},{names_range},0))"
            sheet.write_formula(row, col, f'={_quoted(characteristic.ref + extra.marker)}&CHAR(10)&'
                                          f'IFERROR({label},{_quoted(NO_RATING)})', tile,
                                tile_text(characteristic.ref, extra.marker, labels[rating.name] if rating else ""))
            if extra.note:
                sheet.write_comment(row, col, extra.note, {"x_scale": 2.2, "y_scale": 2.4, "font_size": 9})
    last_row = FIRST_TILE_ROW + len(themes) - 1
    for rating in framework.scale.ratings:
        fmt = workbook.add_format({"bg_color": rating.colour, "font_color": text_colour_on(rating.colour)})
        first_cell = f"B{FIRST_TILE_ROW + 1}"
        # The tile's first line is the ref and perhaps markers; the markers are taken off to look the ref up.
        ref = f"LEFT({first_cell},FIND(CHAR(10),{first_cell}&CHAR(10))-1)"
        for marker in MARKERS:
            ref = f"SUBSTITUTE({ref},{_quoted(marker)},\"\")"
        lookup = f"INDEX({final_range},MATCH({ref},{ref_range},0))"
        sheet.conditional_format(FIRST_TILE_ROW, 1, last_row, widest, {
            "type": "formula", "criteria": f"=IFERROR({lookup}={_quoted(rating.name)},FALSE)", "format": fmt})
    legend_row = last_row + 2
    sheet.write_string(legend_row, 0, "Key", workbook.add_format({"bold": True}))
    for offset, rating in enumerate(framework.scale.ratings):
        swatch = workbook.add_format({"bg_color": rating.colour, "font_color": text_colour_on(rating.colour),
                                      "align": "center", "valign": "vcenter", "border": 2,
                                      "border_color": "#FFFFFF"})
        sheet.write_string(legend_row + 1 + offset, 0, key_name(rating, labels[rating.name]), swatch)
        sheet.write_string(legend_row + 1 + offset, 1, rating.meaning)
    blank_row = legend_row + 1 + len(framework.scale.ratings)
    sheet.write_string(blank_row, 0, f"{NO_RATING}  No colour", tile)
    sheet.write_string(blank_row, 1, "Not answered yet.")
    example = framework.characteristics[0].ref
    for offset, (marker, meaning) in enumerate(list(MARKER_MEANINGS.items()) + [
            ("note", "point at a tile (or its red corner) for the characteristic, each reviewer's score and why")],
            start=1):
        sheet.write_string(blank_row + offset, 0, f"{example}{marker}" if marker != "note" else "Notes", tile)
        sheet.write_string(blank_row + offset, 1, meaning + (AS_WRITTEN if marker in (MODERATED, CHANGED) else ""))
    blank_row += len(MARKER_MEANINGS) + 1
    finals = [final.get(c.ref) or "not answered" for c in framework.characteristics]
    summary = ", ".join(f"{finals.count(name)} {name.lower()}"
                        for name in framework.scale.names + ["not answered"] if finals.count(name))
    cached = f"{len(framework.characteristics)} characteristics: {summary}."
    sheet.write_formula(blank_row + 2, 0, _counts_line(framework.scale.names, final_range), None, cached)
    sheet.hide_gridlines(2)
    print_landscape(sheet, pages_high=1, header_row=False)
