"""ipam: an IP address allocator, the sample that shows replicated state.

Routes (under /workflows/ipam):
  POST   /pools                          {"name": "lab", "cidr": "10.0.0.0/24"} -> 201
  GET    /pools                          -> {"pools": [...]}
  POST   /pools/{pool}/allocations       {"owner": "web-1"} -> 201 {"ip": "10.0.0.1", "owner": "web-1"}
  GET    /pools/{pool}/allocations       -> {"allocations": [{"ip", "owner"}, ...], "next": ip or null}
                                          (?from=IP&limit=N: one page of at most N, from that address on)
  DELETE /pools/{pool}/allocations/{ip}  -> 204
  GET    /                               -> {"node", "role", "term", "writable", "lag", "pools"}

Each allocation is one transaction: it reads the pool, takes the next free host address and
records it, so an address is never handed out twice, on this node or after a failover.
"""
import ipaddress
import re

from tandem import route, state, ha, HttpError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_networks = {}  # cidr -> ip_network; parsing is the slow part in an interpreter


def _network(cidr):
    net = _networks.get(cidr)
    if net is None:
        net = _networks[cidr] = ipaddress.ip_network(cidr, strict=True)
    return net


def _hosts(net):
    """(first host as int, number of host addresses): /31 and /32 use every address."""
    if net.num_addresses <= 2:
        return int(net.network_address), net.num_addresses
    return int(net.network_address) + 1, net.num_addresses - 2


def _clip(text, limit=64):
    """What an error message may echo of a client's input: short, so a huge value is not sent back whole."""
    text = str(text)
    return text if len(text) <= limit else "%s... (%d characters)" % (text[:limit], len(text))


def _address(net, value):
    """The address ``value`` (an int) of ``net``'s family: ipaddress.ip_address(1) would be 0.0.0.1 even in ::/96."""
    return type(net.network_address)(value)


def _alloc_key(ip_int):
    return "%039d" % ip_int  # sorts in address order, v4 and v6 alike


def _body(request, *required):
    body = request.json
    if not isinstance(body, dict):
        raise HttpError(400, "send a JSON object with %s" % ", ".join(repr(r) for r in required))
    for key in required:
        if not isinstance(body.get(key), str) or not body[key]:
            raise HttpError(400, "%r is required and must be a non-empty string" % key)
    return body


def _pool(tx, name):
    pool = tx.get("pools", name)
    if pool is None:
        raise HttpError(404, "no pool %r; create it with POST /workflows/ipam/pools" % _clip(name))
    return pool


@ha.on(ha.EventId.NODE_ROLE_CHANGED)
def _warm_while_standing_by(event, **kwargs):
    """A node that is not primary (on load, and whenever it follows) parses every pool's network
    ahead of time. State reads are local and the pools replicated, so a promotion finds the cache
    warm: no hook sits between the new primary and its first allocations."""
    if event.new != ha.NodeRole.PRIMARY:
        for _, pool in state.scan("pools", limit=10000):
            _network(pool["cidr"])


@route("GET", "/")
def status(request):
    """Which node answered and whether it takes allocations: reads are served by either node (a
    secondary's answer may lag by "lag" changes); allocations go to the primary."""
    me = ha.get_node_state()
    return {"node": me.get("name"), "role": me.get("role"), "term": me.get("term"),
            "writable": me.get("role") == ha.NodeRole.PRIMARY, "lag": me.get("lag", 0),
            "pools": len(state.scan("pools", limit=10000))}


@route("POST", "/pools")
def create_pool(request):
    body = _body(request, "name", "cidr")
    name = body["name"]
    if not _NAME.match(name):
        raise HttpError(400, "pool name %r: use 1-63 characters from a-z, 0-9, '_' and '-'" % _clip(name))
    try:
        net = _network(body["cidr"])
    except ValueError as e:
        raise HttpError(400, "cidr %r is not a network: %s (write it like 10.0.0.0/24 or 2001:db8::/120)"
                        % (_clip(body["cidr"]), _clip(e, 120)))
    first, size = _hosts(net)
    with state.transaction() as tx:
        if tx.get("pools", name) is not None:
            raise HttpError(409, "pool %r exists already; delete its allocations or pick another name" % name)
        pool = {"name": name, "cidr": str(net), "size": size, "next": 0, "allocated": 0}
        tx.put("pools", name, pool)
    return 201, {"name": name, "cidr": str(net), "size": size}


@route("GET", "/pools")
def list_pools(request):
    return {"pools": [{"name": p["name"], "cidr": p["cidr"], "size": p["size"], "allocated": p["allocated"]}
                      for _, p in state.scan("pools", limit=1000)]}


@route("POST", "/pools/{pool}/allocations")
def allocate(request, pool):
    owner = _body(request, "owner")["owner"]
    with state.transaction() as tx:
        p = _pool(tx, pool)
        if p["allocated"] >= p["size"]:
            raise HttpError(409, "pool %r is full (%d addresses); free one with DELETE .../allocations/{ip}" % (pool, p["size"]))
        first, size = _hosts(_network(p["cidr"]))
        coll = "alloc:" + pool
        offset = p["next"]
        for _ in range(size):  # the next free address at or after the cursor, wrapping around
            if tx.get(coll, _alloc_key(first + offset)) is None:
                break
            offset = (offset + 1) % size
        ip = str(_address(_network(p["cidr"]), first + offset))
        tx.put(coll, _alloc_key(first + offset), {"ip": ip, "owner": owner})
        p["next"] = (offset + 1) % size
        p["allocated"] += 1
        tx.put("pools", pool, p)
    return 201, {"ip": ip, "owner": owner}


# a key's first 35 of 39 digits: one block of 10,000 addresses, which one scan (at most 10,000 rows) holds whole
_BLOCK = 10000
_BLOCKS_PER_PAGE = 64  # a sparse (v6) pool: a page looks at this many blocks at most, then says where to go on


@route("GET", "/pools/{pool}/allocations")
def list_allocations(request, pool):
    """The allocations in address order, at most ``limit`` (10,000); ``from`` (an address) starts the page there,
    and ``next`` says where the next page starts (null after the pool's last address)."""
    try:
        limit = max(1, min(int(request.query.get("limit", "10000")), 10000))
    except ValueError:
        raise HttpError(400, "limit must be a whole number")
    start = request.query.get("from")
    with state.transaction() as tx:
        p = _pool(tx, pool)
        net = _network(p["cidr"])
        first, size = _hosts(net)
        if start is None:
            if p["allocated"] <= limit:  # the whole pool fits in one answer
                return {"allocations": [v for _, v in tx.scan("alloc:" + pool, limit=limit)], "next": None}
            at = first
        else:
            try:
                at = int(ipaddress.ip_address(start))
            except ValueError:
                raise HttpError(400, "from must be an address of the pool, for example %s" % _address(net, first))
            if _address(net, first).version != ipaddress.ip_address(start).version:
                raise HttpError(400, "from must be an IPv%d address, like the pool %s" % (net.version, p["cidr"]))
        at, last = max(at, first), first + size - 1
        items, block = [], at // _BLOCK
        for _ in range(_BLOCKS_PER_PAGE):
            if block * _BLOCK > last:
                return {"allocations": items, "next": None}
            for k, v in tx.scan("alloc:" + pool, prefix="%035d" % block, limit=_BLOCK):
                if int(k) < at:
                    continue
                if len(items) == limit:
                    return {"allocations": items, "next": str(_address(net, int(k)))}
                items.append(v)
            block += 1
    return {"allocations": items, "next": None if block * _BLOCK > last else str(_address(net, block * _BLOCK))}


@route("DELETE", "/pools/{pool}/allocations/{ip}")
def release(request, pool, ip):
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        raise HttpError(400, "%r is not an IP address" % _clip(ip))
    addr = int(parsed)
    with state.transaction() as tx:
        p = _pool(tx, pool)
        if parsed.version != _network(p["cidr"]).version:
            raise HttpError(400, "%s is an IPv%d address; pool %r holds IPv%d addresses" % (ip, parsed.version, pool,
                                                                                       _network(p["cidr"]).version))
        if not tx.delete("alloc:" + pool, _alloc_key(addr)):
            raise HttpError(404, "%s is not allocated in pool %r" % (ip, pool))
        p["allocated"] -= 1
        tx.put("pools", pool, p)
    return 204, None
