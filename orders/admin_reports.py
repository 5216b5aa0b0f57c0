"""The staff's reports in the Wagtail admin (Reports menu): musician performance and the
business figures, each for a date range, with a chart (inline SVG) and a CSV export. The
figures come from ``orders.reports``."""

import csv
from datetime import datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from notifications.formatting import ZERO_DECIMAL, money
from orders import reports
from orders.admin_access import staff_only
from orders.admin_charts import bar_chart, percent


def _date_input():
    # The browser's own date picker: Wagtail's AdminDateInput needs a script these plain
    # report pages do not load.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RangeForm(forms.Form):
    since = forms.DateField(label="From", required=False, widget=_date_input())
    until = forms.DateField(label="To (inclusive)", required=False, widget=_date_input())

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the range comes before its start.")
        return data

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """[since, until): from the first day's start to the day after the last one, in the
        site's time zone."""
        zone = timezone.get_current_timezone()
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        return (
            datetime.combine(since, time.min, zone) if since else None,
            datetime.combine(until + timedelta(days=1), time.min, zone) if until else None,
        )

    def slug(self) -> str:
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        return f"{since or 'start'}-to-{until or 'now'}"


def major_units(amount: int, currency: str) -> str:
    """Minor units as a plain decimal for spreadsheets: 200001 INR -> "2000.01"."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    return str(Decimal(amount).scaleb(-exponent))


def csv_response(filename: str, header: list, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _blank(value):
    return "" if value is None else value


@method_decorator(staff_only, name="dispatch")
class ReportView(WagtailAdminTemplateMixin, TemplateView):
    """A report for a date range; ``?export=csv`` downloads the same figures."""

    header_icon = "table"
    url_name = ""

    def get(self, request, *args, **kwargs):
        form = RangeForm(request.GET or None)
        if form.is_bound and not form.is_valid():
            context = self.get_context_data(form=form, invalid=True)
            return self.render_to_response(context, status=400)
        if not form.is_bound:
            form = RangeForm({})
            form.is_valid()
        since, until = form.bounds()
        figures = self.figures(since=since, until=until)
        if request.GET.get("export") == "csv":
            return self.csv(figures, form)
        query = request.GET.copy()
        query["export"] = "csv"
        context = self.get_context_data(
            form=form, figures=figures, csv_url=f"{reverse(self.url_name)}?{query.urlencode()}"
        )
        context.update(self.extra_context_for(figures))
        return self.render_to_response(context)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.get_page_title()}]


class MusicianPerformanceView(ReportView):
    page_title = "Musician performance"
    template_name = "orders/admin/report_musicians.html"
    url_name = "orders_reports_musicians"

    def figures(self, *, since, until):
        return reports.musician_performance(since=since, until=until)

    def extra_context_for(self, rows):
        return {
            "orders_chart": bar_chart(
                [(row.musician, row.orders) for row in rows[:20]],
                title="Orders accepted, per musician (top 20)",
            ),
            "on_time_chart": bar_chart(
                [
                    (row.musician, row.on_time_rate)
                    for row in rows[:20]
                    if row.on_time_rate is not None
                ],
                title="On-time rate, per musician",
                value_text=percent,
            ),
        }

    def csv(self, rows, form):
        return csv_response(
            f"musician-performance-{form.slug()}.csv",
            [
                "musician",
                "email",
                "orders",
                "on_time_rate",
                "first_draft_approval_rate",
                "average_completion_days",
                "rating",
                "reviews",
                "disputes",
            ],
            (
                [
                    row.musician.display_name,
                    row.musician.email,
                    row.orders,
                    _blank(row.on_time_rate),
                    _blank(row.first_draft_approval_rate),
                    _blank(row.average_completion_days),
                    _blank(row.rating_average),
                    row.rating_count,
                    row.disputes,
                ]
                for row in rows
            ),
        )


class BusinessView(ReportView):
    page_title = "Business"
    template_name = "orders/admin/report_business.html"
    url_name = "orders_reports_business"

    def figures(self, *, since, until):
        return reports.business_figures(since=since, until=until)

    def extra_context_for(self, figures):
        currencies = sorted(
            set(figures.gross) | set(figures.platform_revenue) | set(figures.refunds)
        )
        return {
            "money_rows": [
                {
                    "currency": currency,
                    "gross": money(figures.gross.get(currency, 0), currency),
                    "platform_revenue": money(figures.platform_revenue.get(currency, 0), currency),
                    "refunds": money(figures.refunds.get(currency, 0), currency),
                }
                for currency in currencies
            ],
            "repeat_rate": percent(figures.repeat_customer_rate),
            "month_chart": bar_chart(
                [(reports.month_label(month), count) for month, count in figures.by_month],
                title="Orders by month",
            ),
            "occasion_chart": bar_chart(figures.by_occasion, title="Orders by occasion"),
        }

    def csv(self, figures, form):
        rows = []
        for name, totals in (
            ("gross value", figures.gross),
            ("platform revenue", figures.platform_revenue),
            ("refunds", figures.refunds),
        ):
            for currency, amount in sorted(totals.items()):
                rows.append(["money", name, currency, major_units(amount, currency)])
        rows += [
            ["orders", "orders", "", figures.orders],
            ["orders", "customers", "", figures.customers],
            ["orders", "repeat customers", "", figures.repeat_customers],
            ["orders", "repeat-customer rate", "", _blank(figures.repeat_customer_rate)],
        ]
        rows += [["by occasion", label, "", count] for label, count in figures.by_occasion]
        rows += [
            ["by month", month.strftime("%Y-%m"), "", count] for month, count in figures.by_month
        ]
        return csv_response(
            f"business-{form.slug()}.csv", ["section", "figure", "currency", "value"], rows
        )
