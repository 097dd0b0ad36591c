"""RingCentral's failures in words a receptionist or supervisor can act on."""

from datetime import UTC, datetime

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


# The settings to fix when RingCentral refuses a login for good, by its error code.
LOGIN_FIXES = {"OAU-153": "RC_CLIENT_ID and RC_CLIENT_SECRET", "invalid_client": "RC_CLIENT_ID and RC_CLIENT_SECRET"}


class LoginRefused(RingCentralError):
    """RingCentral refused the login for good: no call can succeed until someone fixes the credentials."""

    blocks_every_call = True

    def __init__(self, *, at: float, code: str, message: str, status: int | None = None):
        self.at, self.reason = at, message  # RingCentral's own words, for the record
        moment = datetime.fromtimestamp(at, UTC)
        fix = LOGIN_FIXES.get(code, "RC_JWT")
        words = f"RingCentral refused the login ({code}) at {moment:%Y-%m-%d %H:%M} UTC: {message}; fix {fix}"
        super().__init__(words, status=status, code=code, permanent=True)

    @property
    def user_message(self) -> str:
        return self.message
