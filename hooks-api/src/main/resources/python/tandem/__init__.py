"""tandem: the Python API of tandem workflows.

A workflow is a directory with ``workflow.py``. It declares HTTP routes with
``@route``, keeps its state in the replicated store through ``state`` and
reacts to role changes through ``ha``::

    from tandem import route, state, ha, HttpError

    @route("GET", "/items/{item}")
    def get_item(request, item):
        value = state.get("items", item)
        if value is None:
            raise HttpError(404, "no item %r; create it with POST /items" % item)
        return value

The node calls into this module through ``_host`` (a Java object installed by
``_install``); nothing here touches the host system, except ``host.run`` of the
programs an operator configured under ``workflows.commands``.
"""
import json as _json
import re as _re
import traceback as _traceback

from tandem import _bridge
from tandem import state
from tandem import ha
from tandem import host

__all__ = ["route", "state", "ha", "host", "HttpError", "Request"]


class HttpError(Exception):
    """Raise from a route to answer with ``status`` and a JSON error body.

    ``message`` should say what is wrong and how to fix it."""

    def __init__(self, status, message, code=None):
        super().__init__(message)
        self.status = int(status)
        self.message = str(message)
        self.code = code


class Request:
    """What a route receives: ``method``, ``path``, ``params``, ``query``,
    ``headers`` (lower-case names), ``body`` (text), ``json`` (parsed body or
    None) and ``user`` (the logged-in user's name, or None)."""

    __slots__ = ("method", "path", "params", "_query", "_query_json", "_headers", "_headers_json", "body", "user", "_json")

    def __init__(self, method, path, params, query, headers, body, user):
        self.method = method
        self.path = path
        self.params = params
        self._query = query
        self._query_json = None
        self._headers = headers
        self._headers_json = None
        self.body = body
        self.user = user
        self._json = None

    @classmethod
    def _from_node(cls, method, path, params, query_json, headers_json, body, user):
        """The node's request: query and headers stay JSON text until a route reads them (most routes never
        look at headers, and in this interpreter parsing is a good part of a small route's time)."""
        r = cls(method, path, params, None, None, body, user)
        r._query_json = query_json
        r._headers_json = headers_json
        return r

    @property
    def query(self):
        if self._query is None:
            text = self._query_json
            self._query = {} if text is None or text == "{}" else _json.loads(text)
        return self._query

    @query.setter
    def query(self, value):
        self._query = value

    @property
    def headers(self):
        if self._headers is None:
            text = self._headers_json
            self._headers = {} if text is None or text == "{}" else _json.loads(text)
        return self._headers

    @headers.setter
    def headers(self, value):
        self._headers = value

    @property
    def json(self):
        if self._json is None and self.body:
            self._json = _json.loads(self.body)
        return self._json

    def __repr__(self):
        return "Request(%s %s)" % (self.method, self.path)


_routes = []  # (method, pattern, function, policy)
_POLICIES = ("local", "primary", "reject")


def route(method, pattern, policy=None):
    """Declare an HTTP route of this workflow.

    ``pattern`` is relative to ``/workflows/<name>``; ``{param}`` matches one
    path segment and is passed to the function as a keyword argument. The
    function returns a dict (200), ``(status, body)`` or
    ``(status, body, headers)``; ``body`` may be None for an empty answer.

    ``policy`` says where the route runs when this node is not the primary:
    ``"local"`` (serve here, from the replicated state: the default for GET
    and HEAD), ``"primary"`` (forward to the primary: the default for writes)
    or ``"reject"`` (answer 503 with the primary's address)."""
    method = str(method).upper()
    if not pattern.startswith("/"):
        raise ValueError("route pattern %r must start with '/'" % pattern)
    if policy is None:
        policy = "local" if method in ("GET", "HEAD", "OPTIONS") else "primary"
    if policy not in _POLICIES:
        raise ValueError("route policy %r: use one of %s" % (policy, ", ".join(_POLICIES)))

    def register(fn):
        _routes.append((method, pattern, fn, policy))
        return fn

    return register


# ---- called by the node, not by workflows ---------------------------------

def _install(host, workflow_name):
    _bridge.install(host, workflow_name)


def _load_workflow():
    """Import the workflow's ``workflow.py``; None on success, else the traceback."""
    try:
        import workflow  # noqa: F401  (found on python.PythonPath: the workflow's folder)
        return None
    except BaseException:
        return _traceback.format_exc()


def _routes_spec():
    return _json.dumps([[m, p, policy] for (m, p, _, policy) in _routes])


def _normalise(result):
    headers = {}
    if isinstance(result, tuple):
        if len(result) == 2:
            status, body = result
        elif len(result) == 3:
            status, body, headers = result
        else:
            raise TypeError("a route returns dict, (status, body) or (status, body, headers); got a %d-tuple" % len(result))
    else:
        status, body = 200, result
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise TypeError("a route's status must be an int from 100 to 599, got %r" % (status,))
    if headers is None:
        headers = {}
    if not isinstance(headers, dict):
        raise TypeError("a route's headers must be a dict, got %s" % type(headers).__name__)
    try:
        text = None if body is None else _json.dumps(body)
    except (TypeError, ValueError) as e:
        raise TypeError("the route returned a body that is not JSON (%s); return dicts, lists, strings, numbers, "
                        "booleans or None" % e) from None
    return status, text, _json.dumps({str(k): str(v) for k, v in headers.items()}) if headers else "{}"


def _dispatch(index, method, path, params_json, query_json, headers_json, body, user):
    """Run route ``index``; returns (status, body_json|None, headers_json, traceback|None)."""
    fn = _routes[index][2]
    params = {} if params_json == "{}" else _json.loads(params_json)
    request = Request._from_node(method, path, params, query_json, headers_json, body, user)
    try:
        status, text, headers = _normalise(fn(request, **params))
        return status, text, headers, None
    except HttpError as e:
        err = {"status": e.status, "code": e.code or _code_for(e.status), "message": e.message}
        return e.status, _json.dumps(err), "{}", None
    except Exception:
        return 500, None, "{}", _traceback.format_exc()


def _code_for(status):
    return {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 409: "conflict", 412: "precondition_failed",
            413: "payload_too_large", 422: "unprocessable", 429: "too_many_requests",
            503: "unavailable"}.get(status, "error")
