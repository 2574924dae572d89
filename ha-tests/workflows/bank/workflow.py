"""bank: transfers between accounts, each one transaction. The fault campaign's second workload: the
total never changes, and no acknowledged transfer is lost or applied twice.

Routes (under /workflows/bank):
  POST /accounts            {"accounts": 10, "balance": 100} -> 201 {"accounts", "total"}; 409 if they exist
  POST /transfers           {"id": "r1-c0-17", "from": "a003", "to": "a007", "amount": 5} -> 201 {"id", "applied"}
                            the same id and values again -> 200 {"id", "applied", "again": true}: a client that
                            retries after an unknown outcome never moves the money twice
                            409 when the source lacks the amount, or the id was used with other values
  GET  /accounts            -> {"accounts": {"a000": 100, ...}, "total", "transfers"}, read in one transaction
  GET  /transfers?prefix=P  -> {"transfers": [id, ...]}: up to 10,000 ids starting with P, by id
"""
import re

from tandem import route, state, HttpError

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_ACCOUNT = re.compile(r"^a[0-9]{3}$")


def _body(request):
    body = request.json
    if not isinstance(body, dict):
        raise HttpError(400, "send a JSON object")
    return body


def _whole(body, key, lo, hi):
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise HttpError(400, "%r must be a whole number from %d to %d" % (key, lo, hi))
    return value


def _account(body, key):
    name = body.get(key)
    if not isinstance(name, str) or not _ACCOUNT.match(name):
        raise HttpError(400, "%r must name an account: 'a' and three digits, like a007" % key)
    return name


@route("POST", "/accounts")
def open_accounts(request):
    body = _body(request)
    n = _whole(body, "accounts", 2, 1000)
    balance = _whole(body, "balance", 0, 10 ** 9)
    with state.transaction() as tx:
        existing = tx.count("accounts")
        if existing:
            raise HttpError(409, "%d accounts exist already; GET /workflows/bank/accounts shows them" % existing)
        for i in range(n):
            tx.put("accounts", "a%03d" % i, balance)
    return 201, {"accounts": n, "total": n * balance}


@route("POST", "/transfers")
def transfer(request):
    body = _body(request)
    tid = body.get("id")
    if not isinstance(tid, str) or not _ID.match(tid):
        raise HttpError(400, "'id' must be 1-64 characters from A-Z, a-z, 0-9 and _.:- (one per transfer, so a retry is safe)")
    src, dst = _account(body, "from"), _account(body, "to")
    if src == dst:
        raise HttpError(400, "'from' and 'to' are both %s; a transfer needs two accounts" % src)
    amount = _whole(body, "amount", 1, 10 ** 6)
    record = {"from": src, "to": dst, "amount": amount}
    with state.transaction() as tx:
        done = tx.get("transfers", tid)
        if done is not None:
            if done != record:
                raise HttpError(409, "transfer %s was made already with other values: %r" % (tid, done))
            return 200, {"id": tid, "applied": True, "again": True}
        a, b = tx.get("accounts", src), tx.get("accounts", dst)
        if a is None or b is None:
            raise HttpError(404, "no account %s; open accounts with POST /workflows/bank/accounts" % (src if a is None else dst))
        if a < amount:
            raise HttpError(409, "%s holds %d, less than %d" % (src, a, amount))
        tx.put("accounts", src, a - amount)
        tx.put("accounts", dst, b + amount)
        tx.put("transfers", tid, record)
    return 201, {"id": tid, "applied": True}


@route("GET", "/accounts")
def accounts(request):
    with state.transaction() as tx:
        items = tx.scan("accounts", limit=1000)
        made = tx.count("transfers")
    return {"accounts": dict(items), "total": sum(v for _, v in items), "transfers": made}


@route("GET", "/transfers")
def transfers(request):
    prefix = request.query.get("prefix", "")
    with state.transaction() as tx:
        return {"transfers": [k for k, _ in tx.scan("transfers", prefix, limit=10000)]}
