package dev.tandem.harness;

import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A hostile process for the fault tests: sends the bytes of a captured TCP stream, as they were, to
 * a port from connections of its own, {@code times} times, reading whatever comes back for a moment.
 *
 * <p>{@code ReplayBytes <host> <port> <file> <times>}
 */
public final class ReplayBytes {
    public static void main(String[] args) throws Exception {
        byte[] bytes = Files.readAllBytes(Path.of(args[2]));
        int times = Integer.parseInt(args[3]), sent = 0;
        for (int i = 0; i < times; i++) {
            try (Socket s = new Socket(args[0], Integer.parseInt(args[1]))) {
                s.setSoTimeout(2000);
                s.getOutputStream().write(bytes);
                s.getOutputStream().flush();
                sent += bytes.length;
                InputStream in = s.getInputStream();
                byte[] buf = new byte[8192];
                try {
                    while (in.read(buf) >= 0) {
                        // what the node answers is not the point: drained until it closes or 2 s pass
                    }
                } catch (SocketTimeoutException | java.net.SocketException e) {
                    // quiet for 2 s, or reset: either way this replay is over
                }
            } catch (java.io.IOException e) {
                System.out.println("replay " + i + ": " + e);
            }
        }
        System.out.println("replayed " + sent + " bytes in " + times + " connections");
    }
}
