"""BlueCat Gateway's ``availability_group.api`` names, backed by tandem.ha,
so role hooks written for BlueCat Gateway run unchanged."""
from tandem.ha import EventId, NodeRole, NodeRoleChanged, subscribe, get_node_state, get_group_state

__all__ = ["EventId", "NodeRole", "NodeRoleChanged", "subscribe", "get_node_state", "get_group_state"]
