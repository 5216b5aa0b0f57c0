from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.selectors import musicians_listed


def musicians(request):
    # The matching profile carries what a customer weighs: styles, rating, songs delivered.
    listed = musicians_listed().select_related("musician_profile")
    page = Paginator(listed, 24).get_page(request.GET.get("page"))
    return render(request, "cms/musicians.html", {"page": page})
