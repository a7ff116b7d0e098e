#!/usr/bin/env python3
"""The official Genesys Cloud Python SDK (PureCloudPlatformClientV2) against a running Holdfast.

Drives the Genesys-compatible endpoints exactly as an existing script would: a client
credentials token, protect, list, recording metadata, one recording, a deletion date refused
while protected and accepted after release, revoke, and the audit query. The native API is
used only to find a conversation to work on and to read back what the server stored.

Environment: HOLDFAST_URL (http://127.0.0.1:PORT), HOLDFAST_CLIENT_ID, HOLDFAST_CLIENT_SECRET
(an API client with the manager role), HOLDFAST_USER and HOLDFAST_PASSWORD (a manager of the
same organization). Prints each check, then `N passed, M failed`; exits 1 on any failure.
"""

import datetime
import json
import os
import sys
import traceback
import urllib.request
import uuid

import PureCloudPlatformClientV2 as gc
from PureCloudPlatformClientV2.rest import ApiException

URL = os.environ["HOLDFAST_URL"].rstrip("/")
UTC = datetime.timezone.utc
results = {"passed": 0, "failed": 0}


def check(name, got, want):
    """One exact expectation."""
    if got == want:
        results["passed"] += 1
        print(f"ok   {name}")
    else:
        results["failed"] += 1
        print(f"FAIL {name}\n     got:  {got!r}\n     want: {want!r}")


def model(cls, **fields):
    """An SDK model with these fields set, as a script builds one (the constructors take none)."""
    obj = cls()
    for name, value in fields.items():
        setattr(obj, name, value)
    return obj


def refused(call):
    """The status of the ApiException a call raises, or 'no error'."""
    try:
        call()
    except ApiException as e:
        return e.status
    return "no error"


class Native:
    """The native API, signed in as a manager: only to find data and read it back."""

    def __init__(self):
        body = json.dumps({"username": os.environ["HOLDFAST_USER"],
                           "password": os.environ["HOLDFAST_PASSWORD"]}).encode()
        req = urllib.request.Request(f"{URL}/api/session", data=body, method="POST", headers={
            "content-type": "application/json", "x-holdfast-csrf": "1"})
        with urllib.request.urlopen(req) as answer:
            self.cookie = answer.headers["set-cookie"].split(";")[0]

    def get(self, path):
        req = urllib.request.Request(f"{URL}{path}", headers={"cookie": self.cookie})
        with urllib.request.urlopen(req) as answer:
            return json.load(answer)


def ms(text):
    """An instant as the SDK parses it, to the millisecond."""
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def main():
    native = Native()
    # An unprotected conversation with a policy recording that is available: protectable.
    page = native.get("/api/conversations?protected=no&recorded=yes&size=100")
    conv = other = None
    for row in page["entities"]:
        details = native.get(f"/api/conversations/{row['id']}")
        policy = [r for r in details["recordings"]
                  if r["role"] == "policy" and r["fileState"] == "AVAILABLE"]
        if not policy:
            continue
        if conv is None:
            conv, recordings, rec = row["id"], details["recordings"], policy[0]
        elif other is None:
            other = row["id"]
    if conv is None or other is None:
        raise SystemExit("the demo data has no two protectable, unprotected conversations")
    missing = str(uuid.uuid4())

    # Token: the client credentials grant at HOST/oauth/token, as the SDK derives it.
    client = gc.api_client.ApiClient(host=URL)
    check("a wrong secret is refused with 401", refused(
        lambda: gc.api_client.ApiClient(host=URL).get_client_credentials_token(
            os.environ["HOLDFAST_CLIENT_ID"], "wrong-secret")), 401)
    client.get_client_credentials_token(os.environ["HOLDFAST_CLIENT_ID"],
                                        os.environ["HOLDFAST_CLIENT_SECRET"])
    token = client.access_token
    check("a bearer token is issued: 256 bits in hex", (len(token), set(token) <= set("0123456789abcdef")), (64, True))
    recording_api = gc.RecordingApi(client)
    audit_api = gc.AuditApi(client)
    query = lambda ids: model(gc.ConversationDeletionProtectionQuery, conversation_ids=ids)

    # Protect: the unknown id fails, the real one is protected.
    result = recording_api.put_recordings_deletionprotection(protect=True, body=query([conv, missing]))
    check("protect: one failed update, for the unknown id",
          [(f.conversation.id, f.conversation.self_uri) for f in result.failed_updates],
          [(missing, f"/api/v2/conversations/{missing}")])
    protected = native.get(f"/api/conversations/{conv}")
    check("protect: the native API shows it protected, by the API client",
          (protected["protection"] or {}).get("by"), "Genesys SDK test")
    recordings = protected["recordings"]
    listed = recording_api.post_recordings_deletionprotection(body=query([conv, other, missing]))
    check("list: exactly the protected one", [(e.id, e.self_uri) for e in listed],
          [(conv, f"/api/v2/conversations/{conv}")])

    # Recording metadata and one recording, as stored.
    metadata = recording_api.get_conversation_recordingmetadata(conv)
    check("recording metadata: every recording, in order",
          [(m.id, m.conversation_id, m.file_state) for m in metadata],
          [(r["id"], conv, r["fileState"]) for r in recordings])
    one = recording_api.get_conversation_recording(conv, rec["id"])
    check("one recording: id, conversation, state, role",
          (one.id, one.conversation_id, one.file_state, one.recording_file_role),
          (rec["id"], conv, "AVAILABLE", "CUSTOMER_EXPERIENCE"))
    check("one recording: its deletion date", one.delete_date,
          ms(rec["deleteDate"]) if rec["deleteDate"] else None)

    # A deletion date: the past is a manual deletion, refused while protected; the future is
    # stored (suspended). The SDK sends only the fields set, with microseconds and an offset.
    past = datetime.datetime.now(UTC) - datetime.timedelta(days=3, microseconds=7)
    check("a past deleteDate while protected: 409", refused(
        lambda: recording_api.put_conversation_recording(conv, rec["id"], model(gc.Recording, delete_date=past))), 409)
    check("... and nothing changed", native.get(f"/api/conversations/{conv}")["recordings"], recordings)
    naive = datetime.datetime(2031, 5, 6, 7, 8, 9)
    check("a deleteDate without a time zone: 400, not guessed", refused(
        lambda: recording_api.put_conversation_recording(conv, rec["id"], model(gc.Recording, delete_date=naive))), 400)
    future = datetime.datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    updated = recording_api.put_conversation_recording(conv, rec["id"], model(gc.Recording, delete_date=future))
    check("a future deleteDate while protected: stored to the millisecond", updated.delete_date,
          datetime.datetime(2031, 5, 6, 5, 8, 9, 123000, tzinfo=UTC))
    stored = [r for r in native.get(f"/api/conversations/{conv}")["recordings"] if r["id"] == rec["id"]][0]
    check("... as the native API shows it", (stored["deleteDate"], stored["effectiveDeletion"]),
          ("2031-05-06T05:08:09.123Z", {"kind": "protected"}))

    # Revoke, then the past date is a manual deletion again.
    result = recording_api.put_recordings_deletionprotection(protect=False, body=query([conv]))
    check("revoke: no failed update", result.failed_updates, [])
    check("revoke: listed as protected no more",
          recording_api.post_recordings_deletionprotection(body=query([conv])), [])
    deleted = recording_api.put_conversation_recording(conv, rec["id"], model(gc.Recording, delete_date=past))
    check("a past deleteDate after release: deleted", deleted.file_state, "DELETED")
    check("... as the native API shows it",
          [r["fileState"] for r in native.get(f"/api/conversations/{conv}")["recordings"] if r["id"] == rec["id"]],
          ["DELETED"])

    # The retention query: recordings retained for more than 30 days, a page at a time.
    first = recording_api.get_recordings_retention_query(retention_threshold_days=30, page_size=10)
    def retained(e):
        return e.delete_date is None or (e.delete_date - e.creation_time) > datetime.timedelta(days=30)
    check("retention query: a page of 10, each retained longer than 30 days",
          (len(first.entities), all(retained(e) for e in first.entities)), (10, True))
    cursor = first.next_uri.split("cursor=")[1]
    second = recording_api.get_recordings_retention_query(retention_threshold_days=30, page_size=10, cursor=cursor)
    check("retention query: the cursor goes on after the first page",
          (cursor, second.entities[0].recording_id > cursor, all(retained(e) for e in second.entities)),
          (first.entities[-1].recording_id, True, True))

    # The audit query: one event of each kind, about this conversation or recording.
    now = datetime.datetime.now(UTC)
    interval = f"{(now - datetime.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}/" \
               f"{(now + datetime.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
    def audit(entity, action):
        filters = [model(gc.AuditQueryFilter, pcProperty="EntityId", value=entity),
                   model(gc.AuditQueryFilter, pcProperty="Action", value=action)]
        answer = audit_api.post_audits_query_realtime(model(gc.AuditRealtimeQueryRequest,
            interval=interval, service_name="Quality", filters=filters, page_size=25, page_number=1))
        return answer.total, [(e.action, e.entity.id, e.service_name) for e in answer.entities]
    check("audit: ApplyProtection", audit(conv, "ApplyProtection"),
          (1, [("ApplyProtection", conv, "Quality")]))
    check("audit: RevokeProtection", audit(conv, "RevokeProtection"),
          (1, [("RevokeProtection", conv, "Quality")]))
    check("audit: DeletionBlocked", audit(rec["id"], "DeletionBlocked"),
          (1, [("DeletionBlocked", rec["id"], "Quality")]))
    check("audit: Delete", audit(rec["id"], "Delete"), (1, [("Delete", rec["id"], "Quality")]))


if __name__ == "__main__":
    try:
        main()
    except Exception:
        results["failed"] += 1
        traceback.print_exc()
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)
