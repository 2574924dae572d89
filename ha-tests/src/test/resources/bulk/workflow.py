"""bulk: writes many small transactions fast, and digests them (the catch-up test deploys it)."""
import hashlib

from tandem import route, state


@route("POST", "/write")
def write(request):
    body = request.json or {}
    start, n = int(body.get("start", 0)), int(body.get("n", 1000))
    for i in range(start, start + n):  # one transaction, one LSN, one replicated change each
        with state.transaction() as tx:
            tx.put("items", "%08d" % i, {"i": i})
    return {"written": n}


@route("GET", "/digest")
def digest(request):
    """Count, sum of values and SHA-256 of the keys in order (keys are %08d, so 4-digit prefixes page by 10,000)."""
    h, count, total = hashlib.sha256(), 0, 0
    for block in range(100):
        items = state.scan("items", prefix="%04d" % block, limit=10000)
        h.update("".join(key for key, _ in items).encode())
        total += sum(value["i"] for _, value in items)
        count += len(items)
    return {"count": count, "sum": total, "sha256": h.hexdigest()}
