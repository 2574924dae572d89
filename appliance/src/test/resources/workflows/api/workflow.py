"""Exercises the tandem Python API end to end (used by WorkflowApiTest)."""
from tandem import route, state, ha, HttpError


@route("PUT", "/docs/{coll}/{key}")
def put_doc(request, coll, key):
    state.put(coll, key, request.json)
    return {"stored": key}


@route("GET", "/docs/{coll}/{key}")
def get_doc(request, coll, key):
    value = state.get(coll, key)
    if value is None:
        raise HttpError(404, "no %s/%s" % (coll, key))
    return {"value": value}


@route("DELETE", "/docs/{coll}/{key}")
def delete_doc(request, coll, key):
    return {"deleted": state.delete(coll, key)}


@route("GET", "/docs/{coll}")
def scan_docs(request, coll):
    prefix = request.query.get("prefix", "")
    return {"items": [[k, v] for k, v in state.scan(coll, prefix=prefix, limit=int(request.query.get("limit", "100")))],
            "count": state.count(coll, prefix)}


@route("POST", "/atomic")
def atomic(request):
    """Writes two documents, then fails as asked: nothing may remain."""
    with state.transaction() as tx:
        tx.put("atomic", "a", 1)
        tx.put("atomic", "b", 2)
        if request.json.get("fail") == "http":
            raise HttpError(409, "refused after writing")
        if request.json.get("fail") == "crash":
            raise RuntimeError("boom after writing")
    return 201, {"ok": True}


@route("POST", "/counter")
def increment(request):
    with state.transaction() as tx:
        n = tx.get("counter", "n", 0) + 1
        tx.put("counter", "n", n)
    return {"n": n}


@route("GET", "/shapes/{shape}")
def shapes(request, shape):
    if shape == "dict":
        return {"a": 1}
    if shape == "created":
        return 201, {"b": 2}
    if shape == "headers":
        return 202, {"c": 3}, {"X-Workflow": "api"}
    if shape == "empty":
        return 204, None
    if shape == "garbage":
        return {1, 2, 3}
    if shape == "bad-status":
        return 999, {}
    raise ValueError("secret internal detail " + shape)


@route("GET", "/node")
def node(request):
    return {"node": ha.get_node_state(), "group": ha.get_group_state()}


@route("GET", "/host-file")
def host_file(request):
    try:
        with open("/etc/hostname") as f:
            return {"read": f.read()}
    except OSError as e:
        return {"denied": type(e).__name__}


@route("GET", "/echo")
def echo(request):
    return {"method": request.method, "path": request.path, "query": request.query,
            "agent": request.headers.get("x-test"), "json": request.json}


@route("POST", "/echo")
def echo_post(request):
    return echo(request)


# role monitoring: every NODE_ROLE_CHANGED call, in arrival order
_role_calls = []


@ha.on(ha.EventId.NODE_ROLE_CHANGED)
def _on_role(event, **kwargs):
    _role_calls.append([event.previous, event.new, event.term])


@route("GET", "/role-calls")
def role_calls(request):
    return {"calls": _role_calls}


@route("POST", "/primary-only", policy="reject")
def primary_only(request):
    return {"served_by": ha.get_node_state()["name"]}


@route("POST", "/where")
def where_write(request):
    return {"served_by": ha.get_node_state()["name"]}


@route("POST", "/slow")
def slow_write(request):
    """Takes its time on the primary: a forwarded write still running when the primary leaves the group."""
    import time
    with state.transaction() as tx:  # committed before the wait: the test sees the route has started
        tx.put("slow", "started", (request.json or {}).get("seconds", 1))
    time.sleep(float((request.json or {}).get("seconds", 1)))
    return {"served_by": ha.get_node_state()["name"]}


@route("GET", "/where")
def where_read(request):
    return {"served_by": ha.get_node_state()["name"]}


# host programs: only those under workflows.commands
@route("POST", "/host/{name}")
def run_host_command(request, name):
    from tandem import host
    try:
        return host.run(name, timeout=(request.json or {}).get("timeout", 10)).as_dict()
    except host.CommandNotAllowed as e:
        raise HttpError(403, str(e))


@route("GET", "/host")
def host_commands(request):
    from tandem import host
    return {"commands": host.commands()}
