from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.selectors import musicians_listed
from orders.availability import musicians_availability
from orders.wording import availability_label


def musicians(request):
    # The matching profile carries what a customer weighs: styles, rating, songs delivered.
    listed = musicians_listed().select_related("musician_profile")
    page = Paginator(listed, 24).get_page(request.GET.get("page"))
    # One read for the whole page: the profiles came with the users, the load is one query.
    availability = musicians_availability(page.object_list)
    cards = [
        {
            "musician": musician,
            "available": availability[musician.pk].available,
            "availability": availability_label(availability[musician.pk]),
        }
        for musician in page.object_list
    ]
    return render(request, "cms/musicians.html", {"page": page, "cards": cards})
