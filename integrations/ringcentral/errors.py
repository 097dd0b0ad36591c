"""RingCentral's failures in words a receptionist or supervisor can act on."""

from integrations.base import ProviderError

# RingCentral's error codes, then HTTP statuses.
ERROR_WORDS = {
    "CMN-101": "RingCentral refused the request as malformed",
    "CMN-102": "the queue or extension does not exist at RingCentral",
    "CMN-201": "RingCentral is busy, we will retry",
    "CMN-211": "RingCentral had an internal error, we will retry",
    "CMN-301": "RingCentral is busy, we will retry",
    "CMN-408": "RingCentral does not allow this change (no permission, or the queue does not let members change it)",
    "OAU-213": "Callrota's sign-in to RingCentral expired, we will retry",
}
STATUS_WORDS = {
    400: "RingCentral refused the request as malformed",
    401: "Callrota could not sign in to RingCentral; tell your supervisor",
    403: "RingCentral does not allow this change (no permission)",
    404: "the queue or extension does not exist at RingCentral",
    429: "RingCentral is busy, we will retry",
    500: "RingCentral had an internal error, we will retry",
    502: "RingCentral is busy, we will retry",
    503: "RingCentral is busy, we will retry",
    504: "RingCentral is busy, we will retry",
}


class RingCentralError(ProviderError):
    """A failed RingCentral call, worded from its errorCode, else its HTTP status."""

    @property
    def user_message(self) -> str:
        words = ERROR_WORDS.get(self.code) or (STATUS_WORDS.get(self.status) if self.status else None)
        if words is not None:
            return words
        if self.permanent:
            return f"RingCentral refused it: {self.message}"
        return "RingCentral could not be reached, we will retry" if self.status is None else "RingCentral refused it"
