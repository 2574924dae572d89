"""vip: a virtual IP address that follows the primary.

The role hook claims the address when this node becomes primary and releases it when it stops
being primary (and once when the workflow loads on a node that is not primary, to clear an address
left behind by a crash). It does so only through host commands the operator configured: a workflow
cannot touch the host by itself (SPEC G6)::

    workflows:
      commands:
        vip_claim:    [/usr/sbin/ip, addr, replace, 192.0.2.10/24, dev, eth0]
        vip_release:  [/usr/sbin/ip, addr, del, 192.0.2.10/24, dev, eth0]
        vip_announce: [/usr/sbin/arping, -U, -c, '1', -I, eth0, 192.0.2.10]   # optional

  GET /workflows/vip/   -> {"configured": true, "holding": true, "role": "PRIMARY", "history": [...]}

On a node without vip_claim and vip_release the workflow loads, does nothing and says what is
missing in GET /workflows/vip/.
"""
import collections
import time

from tandem import route, ha, host

CLAIM, RELEASE, ANNOUNCE = "vip_claim", "vip_release", "vip_announce"
_holding = False
_history = collections.deque(maxlen=50)  # newest last: what this node ran, and why


def _run(action, command, event):
    result = host.run(command, timeout=5)
    _history.append({"action": action, "command": command, "term": event.term, "role": event.new,
                     "returncode": result.returncode, "stderr": result.stderr.strip()[:500], "time": time.time()})
    return result


@ha.on(ha.EventId.NODE_ROLE_CHANGED)
def role_changed(event, **kwargs):
    global _holding
    if not host.configured(CLAIM, RELEASE):
        return
    if event.new == ha.NodeRole.PRIMARY:
        result = _run("claim", CLAIM, event)
        if not result.ok:
            _holding = False
            raise host.CommandFailed(result)  # recorded as the hook's error, with the command's stderr
        _holding = True
        if host.configured(ANNOUNCE):
            _run("announce", ANNOUNCE, event)
    elif _holding or event.previous in (None, ha.NodeRole.PRIMARY):
        # a release that finds nothing to release fails harmlessly (ip: "Cannot assign requested address")
        _run("release", RELEASE, event)
        _holding = False


@route("GET", "/")
def status(request):
    missing = [c for c in (CLAIM, RELEASE) if not host.configured(c)]
    return {"configured": not missing, "missing": missing, "holding": _holding,
            "role": ha.get_node_state()["role"], "history": list(_history)}
