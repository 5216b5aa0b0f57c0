"""The steps of the media pipeline, each the work of one Celery task in ``audio.tasks``:

- ``steps``: what every step shares: versions, progress events, the asset lock, start and finish;
- ``probe``: read the stream's parameters and decode (and meter) the whole file once;
- ``quality``: the quality checks of the source and of the delivery files, as reports;
- ``analyse``: tempo, key and descriptors;
- ``rendering``: the renditions of each purpose, one function per format;
- ``outcome``: the asset's end, ready or failed, told to the app that registered for it.

Uploads enter through ``audio.services`` (which queues the tasks); nothing here queues tasks, so
the tasks can import these modules and the dependencies point one way:
``audio.services -> audio.tasks -> audio.pipeline``.
"""
