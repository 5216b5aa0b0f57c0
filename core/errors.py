"""The base of the errors domain services raise: each carries the HTTP status and the code the
API answers with (and a websocket sends), so views translate them without knowing every case."""


class ServiceError(Exception):
    status = 400
    code = "invalid"
    default_message = "The request is not valid."

    def __init__(self, message: str | None = None, *, code: str | None = None, **extra):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.extra = extra  # what the API answers beside detail and code
        super().__init__(self.message)
