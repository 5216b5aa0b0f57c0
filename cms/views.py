from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.selectors import musicians_listed


def musicians(request):
    page = Paginator(musicians_listed(), 24).get_page(request.GET.get("page"))
    return render(request, "cms/musicians.html", {"page": page})
