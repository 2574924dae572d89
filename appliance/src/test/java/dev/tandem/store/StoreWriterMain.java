package dev.tandem.store;

import java.nio.file.Path;

/** Child process for {@link StoreCrashTest}: writes forever, printing "ack N" after each commit returns. */
public final class StoreWriterMain {
    public static void main(String[] args) {
        Store s = Store.open(Path.of(args[0]));
        for (long i = 0; ; i++) {
            try (StoreTx tx = s.begin("crash")) {
                tx.put("k", Long.toString(i), "{\"i\":" + i + ",\"pad\":\"" + "x".repeat((int) (i % 200)) + "\"}");
                tx.put("counter", "last", Long.toString(i));
                tx.commit();
            }
            System.out.println("ack " + i);
            System.out.flush();
        }
    }
}
