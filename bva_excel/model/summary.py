"""model.summary"""

from __future__ import annotations

from typing import Any

from bva_excel.model.framework import Framework

NOT_ANSWERED = "Not answered"


def theme_counts(framework: Framework, final: dict[str, str]) -> Any:  # a pandas DataFrame
    """Final scores counted per theme: a row per theme, a column per rating and "Not answered".

    "Not answered" is the theme's characteristics less those with a rating on the scale, as the
    sheet's formulas count it (so a final score typed that is not on the scale is not answered).
    """
    import pandas as pd  # heavy: loaded only when needed

    scale = framework.scale

    def column(score: str) -> str:
        rating = scale.find(score) if score else None
        return rating.name if rating else NOT_ANSWERED

    table = pd.DataFrame([{"theme": c.theme.name, "rating": column(final.get(c.ref, ""))}
                          for c in framework.characteristics])
    return pd.crosstab(table["theme"], table["rating"]).reindex(
        index=[t.name for t in framework.themes], columns=scale.names + [NOT_ANSWERED], fill_value=0)


