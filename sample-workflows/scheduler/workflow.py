"""scheduler: a periodic job that runs only on the primary.

The role hook starts the job when this node becomes primary and stops it on any other role. Every
run is recorded in the replicated state (run number, node, term), so the record shows, across
failovers, that the job never ran on two nodes at once: a node that is not primary cannot commit.

  GET /workflows/scheduler/        -> {"running_here": true, "runs": 42, "last": {...}}
  GET /workflows/scheduler/runs    -> {"runs": [{"run", "node", "term", "time"}, ...]} (newest 1000)
"""
import threading
import time

from tandem import route, state, ha

INTERVAL_SECONDS = 0.2
_lock = threading.Lock()
_job = None  # (thread, stop event) while this node runs the job


def _run_job(stop, node, term):
    while not stop.wait(INTERVAL_SECONDS):
        try:
            with state.transaction() as tx:
                n = tx.get("job", "runs", 0) + 1
                tx.put("job", "runs", n)
                tx.put("runs", "%010d" % n, {"run": n, "node": node, "term": term, "time": time.time()})
        except BaseException as e:  # a refused commit reaches Python as a Java exception (polyglot.ForeignException)
            if "WriteRefusedException" not in str(e):
                raise
            return  # this node stopped being primary between two runs: the write was refused, nothing done


def _start(term):
    global _job
    with _lock:
        if _job is None:
            stop = threading.Event()
            t = threading.Thread(target=_run_job, args=(stop, ha.get_node_state()["name"], term), daemon=True)
            t.start()
            _job = (t, stop)


def _stop():
    global _job
    with _lock:
        job, _job = _job, None
    if job is not None:
        job[1].set()
        job[0].join(5)


@ha.on(ha.EventId.NODE_ROLE_CHANGED)
def role_changed(event, **kwargs):
    if event.new == ha.NodeRole.PRIMARY:
        _start(event.term)
    else:
        _stop()


@route("GET", "/")
def status(request):
    return {"running_here": _job is not None, "runs": state.get("job", "runs", 0),
            "last": (state.scan("runs", limit=100000)[-1:] or [[None, None]])[0][1]}


@route("GET", "/runs")
def runs(request):
    items = state.scan("runs", limit=100000)
    return {"runs": [v for _, v in items[-1000:]]}
