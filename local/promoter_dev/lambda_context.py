"""The Lambda context object that tests and the benchmark hand to the handler.

It has the attributes and the method that the runtime's context has and that the handler and Powertools
read; the time left runs down on the real clock from ``timeout_seconds``, as it does in Lambda. It lives
here, beside the other local tooling, so that every test folder and the benchmark's child processes
import the same one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

FUNCTION_NAME = "codeartifact-promoter"


@dataclass
class LambdaContext:
    timeout_seconds: float = 60.0
    aws_request_id: str = "req-1"
    function_name: str = FUNCTION_NAME
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str | None = None
    """None: this function's ARN in the local account (123456789012)."""
    log_group_name: str = f"/aws/lambda/{FUNCTION_NAME}"
    log_stream_name: str = "2026/11/26/[$LATEST]0123456789abcdef"
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.timeout_seconds
        if self.invoked_function_arn is None:
            self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))
