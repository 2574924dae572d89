package dev.tandem.cluster;

import dev.tandem.api.NodeRole;
import dev.tandem.core.GroupMessage;
import dev.tandem.core.GroupMessage.Ack;
import dev.tandem.core.GroupMessage.Maintenance;
import dev.tandem.core.GroupMessage.Nominate;
import dev.tandem.core.GroupMessage.RequestVote;
import dev.tandem.core.GroupMessage.Resign;
import dev.tandem.core.GroupMessage.Status;
import dev.tandem.core.GroupMessage.Switchover;
import dev.tandem.core.GroupMessage.SwitchoverDone;
import dev.tandem.core.GroupMessage.Vote;
import io.vertx.core.json.JsonObject;

/**
 * The one place where group messages meet their wire form: a JSON object with a {@code type} and the
 * record's fields under the names earlier versions used (so members of two versions understand each
 * other during a rolling upgrade). {@link #decode} checks every field before anything acts on it: a
 * message with a field missing or of the wrong type is refused whole, with what is wrong.
 */
final class GroupCodec {
    private GroupCodec() {}

    /** A message that is not a group message the codec knows, or one with a bad field. */
    static final class BadMessage extends Exception {
        BadMessage(String message) {
            super(message);
        }
    }

    static JsonObject encode(GroupMessage m) {
        JsonObject o = new JsonObject().put("type", GroupMessage.typeOf(m));
        if (m instanceof Status s) {
            o.put("name", s.name()).put("witness", s.witness()).put("priority", s.priority()).put("role", s.role().name())
                    .put("term", s.term()).put("lastTerm", s.lastTerm()).put("lsn", s.lsn()).put("http", s.http()).put("addr", s.addr())
                    .put("maint", s.maintenance()).put("mver", s.maintenanceVersion()).put("sentAt", s.sentAt());
        } else if (m instanceof Ack a) {
            o.put("from", a.from()).put("term", a.term()).put("sentAt", a.sentAt());
        } else if (m instanceof Nominate n) {
            o.put("from", n.from()).put("term", n.term()).put("reason", n.reason());
        } else if (m instanceof RequestVote r) {
            o.put("candidate", r.candidate()).put("term", r.term()).put("priority", r.priority()).put("lastTerm", r.lastTerm())
                    .put("lsn", r.lsn()).put("sentAt", r.sentAt());
        } else if (m instanceof Vote v) {
            o.put("from", v.from()).put("term", v.term()).put("granted", v.granted()).put("reason", v.reason()).put("sentAt", v.sentAt());
        } else if (m instanceof Resign r) {
            o.put("from", r.from()).put("term", r.term());
        } else if (m instanceof Switchover s) {
            o.put("from", s.from()).put("to", s.to()).put("id", s.id());
        } else if (m instanceof SwitchoverDone d) {
            o.put("id", d.id()).put("ok", d.ok()).put("message", d.message()).put("primary", d.primary()).put("tookMs", d.tookMs());
        } else if (m instanceof Maintenance x) {
            o.put("from", x.from()).put("enabled", x.enabled()).put("version", x.version());
        }
        return o;
    }

    /** The group message in {@code o}; {@link BadMessage} says which field is missing or wrong. */
    static GroupMessage decode(JsonObject o) throws BadMessage {
        String type = text(o, "type", true);
        return switch (type) {
            case "status" -> new Status(text(o, "name", true), flag(o, "witness"), (int) number(o, "priority"), role(o), number(o, "term"),
                    number(o, "lastTerm"), number(o, "lsn"), text(o, "http", false), text(o, "addr", false), flag(o, "maint"),
                    number(o, "mver"), number(o, "sentAt"));
            case "ack" -> new Ack(text(o, "from", true), number(o, "term"), number(o, "sentAt"));
            case "nominate" -> new Nominate(text(o, "from", true), number(o, "term"), text(o, "reason", false));
            case "request_vote" -> new RequestVote(text(o, "candidate", true), number(o, "term"), (int) number(o, "priority"),
                    number(o, "lastTerm"), number(o, "lsn"), number(o, "sentAt"));
            case "vote" -> new Vote(text(o, "from", true), number(o, "term"), flag(o, "granted"), text(o, "reason", false), number(o, "sentAt"));
            case "resign" -> new Resign(text(o, "from", true), number(o, "term"));
            case "switchover" -> new Switchover(text(o, "from", true), text(o, "to", false), text(o, "id", true));
            case "switchover_done" -> new SwitchoverDone(text(o, "id", true), flag(o, "ok"), text(o, "message", false),
                    text(o, "primary", false), o.containsKey("tookMs") ? number(o, "tookMs") : 0);
            case "maintenance" -> new Maintenance(text(o, "from", false), flag(o, "enabled"), number(o, "version"));
            default -> throw new BadMessage("unknown message type '" + clip(type) + "'");
        };
    }

    private static String text(JsonObject o, String key, boolean required) throws BadMessage {
        Object v = o.getValue(key);
        if (v == null) {
            if (required) throw new BadMessage(kind(o) + ": field '" + key + "' is missing");
            return null;
        }
        if (!(v instanceof String s)) throw new BadMessage(kind(o) + ": field '" + key + "' is not text");
        return s;
    }

    private static long number(JsonObject o, String key) throws BadMessage {
        Object v = o.getValue(key);
        if (!(v instanceof Number n)) {
            throw new BadMessage(kind(o) + ": field '" + key + "' is " + (v == null ? "missing" : "not a number"));
        }
        return n.longValue();
    }

    private static boolean flag(JsonObject o, String key) throws BadMessage {
        Object v = o.getValue(key);
        if (!(v instanceof Boolean b)) {
            throw new BadMessage(kind(o) + ": field '" + key + "' is " + (v == null ? "missing" : "not true or false"));
        }
        return b;
    }

    private static NodeRole role(JsonObject o) throws BadMessage {
        String r = text(o, "role", true);
        try {
            return NodeRole.valueOf(r);
        } catch (IllegalArgumentException e) {
            throw new BadMessage("status: role '" + clip(r) + "' is not a role");
        }
    }

    private static String kind(JsonObject o) {
        return o.getValue("type") instanceof String t ? clip(t) : "a message";
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
