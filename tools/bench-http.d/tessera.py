#!/usr/bin/env python3
"""tools/bench-http's client of tesserad's API (python3 standard library only).

usage: tessera.py BASE_URL COMMAND [args]
  setup ORG STATE                     create a contract and a session; keep their ids in STATE
  codes ORG STATE COUNT PREFIX FILES  generate COUNT fresh codes (batches of at most 10,000) and
                                      write them to PREFIX.1 .. PREFIX.FILES, disjoint slices
  wait [TIMEOUT_S]                    until /v1/status has projection_position == log_position
  syncs                               tessera_log_syncs_total from /metrics
  batch ORG STATE QUANTITY            one batch of QUANTITY codes; waits for it to be generated
                                      (201, or 202 and then its progress) and prints how long
  overlap PREFIX FILES START_US END_US  latency of the requests (PREFIX.i: "SENT_US LATENCY_US
                                      STATUS EXACT" lines) that were in flight between START and END
Every command prints one JSON object on stdout.
"""

import csv
import http.client
import io
import json
import sys
import time
import urllib.parse

BATCH_LIMIT = 10_000          # the largest batch that is answered at once (larger ones are jobs)
SESSION_CAPACITY = 1_000_000  # the domain's largest capacity: a session holds this many codes' seats


class Api:
    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port or 80
        self.conn = None

    def call(self, method, path, body=None, accept="application/json", timeout=600):
        headers = {"Accept": accept}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status, payload
            except (OSError, http.client.HTTPException) as e:
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    fail(f"{method} {path}: {e!r} (is the server still running?)")
        raise AssertionError("unreachable")

    def json(self, method, path, body=None, expect=(200, 201)):
        status, payload = self.call(method, path, body)
        if status not in expect:
            fail(f"{method} {path}: {status} {payload[:500].decode(errors='replace')}")
        return status, json.loads(payload)


def fail(message):
    print(f"bench-http: {message}", file=sys.stderr)
    sys.exit(1)


def load(path):
    with open(path) as f:
        return json.load(f)


def save(path, state):
    with open(path, "w") as f:
        json.dump(state, f)


def new_session(api, org, state):
    _, session = api.json("POST", f"/v1/orgs/{org}/sessions",
                          {"name": f"bench-http {len(state['sessions']) + 1}", "capacity": SESSION_CAPACITY,
                           "contract_id": state["contract"]})
    state["sessions"].append(session["id"])
    state["session_codes"] = 0


def setup(api, org, state_path):
    _, contract = api.json("POST", f"/v1/orgs/{org}/contracts",
                           {"name": "bench-http", "default_price": {"amount": 100, "currency": "EUR"}})
    state = {"contract": contract["id"], "sessions": [], "session_codes": 0, "codes": 0}
    new_session(api, org, state)
    save(state_path, state)
    print(json.dumps({"contract": state["contract"], "session": state["sessions"][0]}))


def batch_codes(api, org, batch):
    """Every code of a batch, from the code list as CSV (one request, every page)."""
    status, payload = api.call("GET", f"/v1/orgs/{org}/codes?batch={urllib.parse.quote(batch)}", accept="text/csv")
    if status != 200:
        fail(f"GET codes of batch {batch}: {status} {payload[:500].decode(errors='replace')}")
    rows = csv.DictReader(io.StringIO(payload.decode()))
    return [row["code"] for row in rows if row["status"] == "available"]


def codes(api, org, state_path, count, prefix, files):
    state = load(state_path)
    started = time.monotonic()
    generated = []
    while len(generated) < count:
        quantity = min(BATCH_LIMIT, count - len(generated))
        if state["session_codes"] + quantity > SESSION_CAPACITY:
            new_session(api, org, state)
        _, batch = api.json("POST", f"/v1/orgs/{org}/contracts/{state['contract']}/batches",
                            {"quantity": quantity, "session_id": state["sessions"][-1], "note": "bench-http"})
        state["session_codes"] += quantity
        listed = [c["code"] for c in batch.get("codes", [])]
        got = listed if len(listed) == quantity else batch_codes(api, org, batch["id"])
        if len(got) != quantity:
            fail(f"batch {batch['id']}: asked for {quantity} codes, read {len(got)} back")
        generated.extend(got)
    state["codes"] += len(generated)
    save(state_path, state)
    if len(set(generated)) != len(generated):
        fail("the server handed out a code twice")
    # Contiguous slices, one per wrk thread.
    per = -(-len(generated) // files)
    for i in range(files):
        with open(f"{prefix}.{i + 1}", "w") as f:
            f.write("\n".join(generated[i * per:(i + 1) * per]))
            f.write("\n")
    print(json.dumps({"codes": len(generated), "seconds": round(time.monotonic() - started, 3),
                      "sessions": len(state["sessions"])}))


def status(api):
    _, body = api.json("GET", "/v1/status", expect=(200,))
    return body


def wait(api, timeout):
    started = time.monotonic()
    while True:
        body = status(api)
        if body.get("projection_position") == body.get("log_position"):
            print(json.dumps({"log_position": body.get("log_position"),
                              "waited_s": round(time.monotonic() - started, 3)}))
            return
        if time.monotonic() - started > timeout:
            fail(f"the read models did not catch up within {timeout} s: {json.dumps(body)}")
        time.sleep(0.05)


def syncs(api):
    status_code, payload = api.call("GET", "/metrics", accept="text/plain")
    if status_code != 200:
        fail(f"GET /metrics: {status_code}")
    for line in payload.decode().splitlines():
        if line.startswith("tessera_log_syncs_total "):
            print(json.dumps({"syncs": float(line.split()[1]), "t": time.monotonic()}))
            return
    fail("/metrics has no tessera_log_syncs_total")


def batch(api, org, state_path, quantity):
    state = load(state_path)
    wall_start = time.time()
    started = time.monotonic()
    status_code, payload = api.call("POST", f"/v1/orgs/{org}/contracts/{state['contract']}/batches",
                                    {"quantity": quantity, "note": "bench-http --mix"})
    answered = time.monotonic() - started
    out = {"status": status_code, "answered_s": round(answered, 3)}
    if status_code not in (201, 202):
        out["problem"] = payload[:500].decode(errors="replace")
        print(json.dumps(out))
        return
    body = json.loads(payload)
    out["batch"] = body.get("id")
    if status_code == 202:
        # A job: follow its progress until every code is generated.
        while True:
            s, p = api.call("GET", f"/v1/orgs/{org}/batches/{body['id']}")
            if s != 200:
                out["progress_error"] = f"{s} {p[:200].decode(errors='replace')}"
                break
            progress = json.loads(p)
            if progress.get("status") != "generating":
                out["final_status"] = progress.get("status")
                break
            if time.monotonic() - started > 600:
                out["final_status"] = "timeout"
                break
            time.sleep(0.05)
    out["seconds"] = round(time.monotonic() - started, 3)
    out["start_us"] = int(wall_start * 1e6)
    out["end_us"] = int(out["start_us"] + out["seconds"] * 1e6)
    print(json.dumps(out))


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, max(0, -(-len(sorted_values) * p // 100) - 1))]


def overlap(prefix, files, start_us, end_us):
    """p50/p99 of the requests in flight at some time within [start, end]."""
    latencies, unmatched, non_2xx, answers, inexact, statuses = [], 0, 0, 0, 0, {}
    for i in range(files):
        with open(f"{prefix}.{i + 1}") as f:
            for line in f:
                sent, latency, status, exact = (int(x) for x in line.split())
                answers += 1
                if sent == 0:
                    unmatched += 1
                    continue
                if sent <= end_us and sent + latency >= start_us:
                    latencies.append(latency)
                    inexact += 1 - exact
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                    if not 200 <= status <= 299:
                        non_2xx += 1
    latencies.sort()
    print(json.dumps({"requests": len(latencies), "p50_us": percentile(latencies, 50),
                      "p99_us": percentile(latencies, 99), "max_us": latencies[-1] if latencies else None,
                      "non_2xx": non_2xx, "unmatched": unmatched, "answers": answers,
                      "matched_by_order": inexact, "statuses": statuses}))


def main(argv):
    if len(argv) < 3:
        fail(__doc__)
    api, command, args = Api(argv[1]), argv[2], argv[3:]
    if command == "setup":
        setup(api, args[0], args[1])
    elif command == "codes":
        codes(api, args[0], args[1], int(args[2]), args[3], int(args[4]))
    elif command == "wait":
        wait(api, float(args[0]) if args else 300)
    elif command == "syncs":
        syncs(api)
    elif command == "batch":
        batch(api, args[0], args[1], int(args[2]))
    elif command == "overlap":
        overlap(args[0], int(args[1]), int(args[2]), int(args[3]))
    else:
        fail(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
