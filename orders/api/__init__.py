"""Orders API (docs/architecture.md). Thin: validate, call a service, serialize. By job:

- ``base``: service errors as API errors, the order the caller may see, the transition 409;
- ``packages``: what musicians offer;
- ``orders``: placing an order, the caller's list, one order in full;
- ``transitions``: the requests that move an order, and the milestone checkouts;
- ``versions``: drafts, finals and their downloads;
- ``reviews`` and ``disputes``: what each side says once the work is done or in question;
- ``musicians``: the matching profile and a musician's public page.

The URLs are in orders/api_urls.py.
"""
