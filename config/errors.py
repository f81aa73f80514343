"""Exceptions that services raise and every front (HTML, API) turns into the same answer."""


class Conflict(Exception):
    """The action lost a race or does not fit the object's current state (HTTP 409).

    ``current_state`` names the state the object is in now, for the message and the API body.
    """

    def __init__(self, message: str, *, current_state: str | None = None,
                 current_state_label: str | None = None):
        super().__init__(message)
        self.message = message
        self.current_state = current_state
        self.current_state_label = current_state_label
