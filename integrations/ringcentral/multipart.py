"""RingCentral's batch answers: HTTP 207, a multipart/mixed body, a status summary part first.

`GET .../extension/1,2,3/presence` answers one JSON part per extension after a summary
part `{"response": [{"href", "status", "responseDescription"}, ...]}` listing each part's
own status, in the order the ids were asked for.
"""

import email.message
import email.parser
import email.policy
import json
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any


@dataclass(frozen=True, slots=True)
class BatchPart:
    status: int
    body: dict


def build_batch(parts: list[tuple[str, int, dict]]) -> tuple[str, bytes]:
    """The content type and body of a batch answer, from (href, status, JSON body) per resource."""
    boundary = f"Boundary_{uuid.uuid4().hex}"
    summary = {
        "response": [
            {"href": href, "status": status, "responseDescription": HTTPStatus(status).phrase}
            for href, status, _ in parts
        ]
    }
    documents = [summary] + [body for _, _, body in parts]
    text = "".join(
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(document, indent=2)}\r\n"
        for document in documents
    )
    return f"multipart/mixed; boundary={boundary}", f"{text}--{boundary}--\r\n".encode()


def parse_batch(content_type: str, body: bytes) -> list[BatchPart]:
    """The per-resource parts of a batch answer, in request order; ValueError if it is malformed."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ValueError("the batch answer is not multipart")
    summary, *documents = [_json_document(part) for part in message.iter_parts()]
    statuses = [entry["status"] for entry in summary.get("response", [])]
    if len(statuses) != len(documents):
        raise ValueError(f"the batch summary lists {len(statuses)} parts but {len(documents)} follow")
    return [BatchPart(int(status), document) for status, document in zip(statuses, documents, strict=True)]


def _json_document(part: email.message.Message) -> Any:
    """One part's JSON document; ValueError if the part is itself multipart (it has no body of its own)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raise ValueError("a batch part is multipart, not a JSON document")
    return json.loads(payload)
