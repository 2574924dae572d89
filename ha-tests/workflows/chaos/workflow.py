"""chaos: a role hook for the fault campaign that can be told to misbehave.

Routes (under /workflows/chaos; each answers on the node it is sent to, not the primary):
  POST /mode   {"mode": "ok" | "fail" | "hang"} -> {"mode"}: how the role hook behaves from now on
  GET  /state  -> {"calls": [[previous, new, term], ...], "mode"}: every call of the role hook since this
               process started, the first one (previous null) being the role at load

The hook records each call before it misbehaves: "fail" raises, "hang" loops until the node stops it
(workflows.hook_timeout). The campaign checks that the hook still ran exactly once per role change.
"""
from tandem import route, ha, HttpError

_calls = []
_mode = "ok"


@ha.on(ha.EventId.NODE_ROLE_CHANGED)
def role_changed(event, **kwargs):
    _calls.append([event.previous, event.new, event.term])
    if _mode == "fail":
        raise RuntimeError("the campaign asked this hook to fail")
    if _mode == "hang":
        while True:
            pass


@route("POST", "/mode", policy="local")
def set_mode(request):
    global _mode
    mode = (request.json or {}).get("mode") if isinstance(request.json, dict) else None
    if mode not in ("ok", "fail", "hang"):
        raise HttpError(400, "'mode' must be 'ok', 'fail' or 'hang'")
    _mode = mode
    return {"mode": _mode}


@route("GET", "/state", policy="local")
def state(request):
    return {"calls": _calls, "mode": _mode}
