package dev.tandem.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Free loopback ports below the ephemeral range (32768+ on Linux): a port from that range can be
 * taken by an outgoing connection while a killed node is down, and the node's restart would fail.
 */
public final class Ports {
    private static final AtomicInteger NEXT = new AtomicInteger((int) (ProcessHandle.current().pid() % 1000) * 11);

    private Ports() {}

    public static int free() throws IOException {
        for (int i = 0; i < 2000; i++) {
            int port = 20000 + Math.floorMod(NEXT.getAndAdd(7), 12000);
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException inUse) {
                // taken: try the next one
            }
        }
        throw new IOException("no free port in 20000..32000");
    }
}
