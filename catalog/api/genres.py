"""Genres: anyone lists them with their song counts; musicians and staff add new ones."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from catalog import selectors, services
from catalog.api.base import ReadPublicly
from catalog.api.serializers import GenreSerializer
from catalog.errors import NotMusician


class GenreListView(ReadPublicly, generics.ListAPIView):
    serializer_class = GenreSerializer

    def get_queryset(self):
        return selectors.genres_listed()

    def list(self, request, *args, **kwargs):
        page = selectors.genre_counts_attach(self.paginate_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=GenreSerializer, responses={201: GenreSerializer, 200: GenreSerializer})
    def post(self, request):
        if not (request.user.is_musician or request.user.is_staff):
            raise NotMusician("Only musicians and staff add genres.")
        serializer = GenreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        name = " ".join(serializer.validated_data["name"].split())
        existed = selectors.genres_listed().filter(name__iexact=name).exists()
        genre = services.genre_create(name=serializer.validated_data["name"])
        [found] = selectors.genre_counts_attach([genre])
        return Response(
            GenreSerializer(found).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )
