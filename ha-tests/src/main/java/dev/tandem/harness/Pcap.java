package dev.tandem.harness;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a capture made with {@code tcpdump -i lo -w FILE} (classic pcap, Ethernet or Linux cooked
 * framing, IPv4) and gives the payload each TCP flow carried, in sequence order: captured group
 * traffic, for the replay test.
 */
public final class Pcap {
    private Pcap() {}

    /** "srcPort>dstPort" -> the bytes sent that way, reassembled by sequence number. */
    public static Map<String, byte[]> tcpPayloads(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
        int magic = b.order(ByteOrder.LITTLE_ENDIAN).getInt(0);
        if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
            b.order(ByteOrder.BIG_ENDIAN);
            magic = b.getInt(0);
            if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) throw new IOException(file + " is not a pcap file");
        }
        int link = b.getInt(20);
        int linkHeader = switch (link) {
            case 1 -> 14;   // Ethernet: what tcpdump -i lo writes
            case 113 -> 16; // Linux cooked (-i any)
            default -> throw new IOException("pcap link type " + link + " is not handled");
        };
        ByteBuffer net = b.duplicate().order(ByteOrder.BIG_ENDIAN); // IP and TCP headers are big-endian, the pcap headers the writer's order
        Map<String, TreeMap<Long, byte[]>> flows = new HashMap<>();
        int at = 24;
        while (at + 16 <= b.limit()) {
            int incl = b.getInt(at + 8);
            int pkt = at + 16;
            at = pkt + incl;
            if (at > b.limit()) break; // a packet cut off by the end of the capture
            int ip = pkt + linkHeader;
            if ((b.get(ip) >> 4) != 4 || b.get(ip + 9) != 6) continue; // IPv4 and TCP only
            int ipHeader = (net.get(ip) & 0x0f) * 4, ipTotal = net.getShort(ip + 2) & 0xffff;
            int tcp = ip + ipHeader;
            int src = net.getShort(tcp) & 0xffff, dst = net.getShort(tcp + 2) & 0xffff;
            long seq = net.getInt(tcp + 4) & 0xffffffffL;
            int tcpHeader = ((net.get(tcp + 12) >> 4) & 0x0f) * 4;
            int len = Math.min(ipTotal - ipHeader - tcpHeader, at - (tcp + tcpHeader)); // never past the captured bytes
            if (len <= 0) continue;
            byte[] payload = new byte[len];
            net.get(tcp + tcpHeader, payload);
            flows.computeIfAbsent(src + ">" + dst, k -> new TreeMap<>()).putIfAbsent(seq, payload);
        }
        Map<String, byte[]> out = new HashMap<>();
        flows.forEach((k, segments) -> {
            ByteArrayOutputStream s = new ByteArrayOutputStream();
            long next = -1;
            for (var e : segments.entrySet()) {
                long seq = e.getKey();
                byte[] p = e.getValue();
                if (next >= 0 && seq < next) { // an overlapping retransmission: keep only what is new
                    int skip = (int) (next - seq);
                    if (skip >= p.length) continue;
                    s.write(p, skip, p.length - skip);
                } else {
                    s.write(p, 0, p.length);
                }
                next = seq + p.length;
            }
            out.put(k, s.toByteArray());
        });
        return out;
    }
}
