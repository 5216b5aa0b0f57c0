"""The musician's statistics: plays, likes, favourites and followers of their catalog, each
song's, and counted plays per day over the last 30 days (drawn as inline SVG bars, no script
and nothing from elsewhere)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from studio import selectors
from studio.access import musician_required

CHART_HEIGHT = 120  # SVG units; a bar of the busiest day reaches the top
BAR_WIDTH = 10
BAR_GAP = 4


@musician_required
@require_GET
def stats_page(request):
    stats = selectors.catalog_stats(request.user)
    bars = []
    for index, day in enumerate(stats.days):
        height = round(day["share"] * CHART_HEIGHT, 1)
        if day["plays"] and height < 1:
            height = 1.0  # a day with plays is never drawn as none
        bars.append(
            {
                **day,
                "x": index * (BAR_WIDTH + BAR_GAP),
                "y": CHART_HEIGHT - height,
                "height": height,
            }
        )
    return render(
        request,
        "studio/stats.html",
        {
            "studio_section": "stats",
            "stats": stats,
            "bars": bars,
            "chart": {
                "width": len(bars) * (BAR_WIDTH + BAR_GAP) - BAR_GAP,
                "height": CHART_HEIGHT,
                "bar_width": BAR_WIDTH,
            },
            "days": selectors.STATS_DAYS,
        },
    )
