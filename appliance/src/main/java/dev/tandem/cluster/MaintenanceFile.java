package dev.tandem.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The group-wide maintenance flag as this node knows it ({@code data_dir/maintenance}: "on|off version"); the higher version wins. */
final class MaintenanceFile {
    private final Path file;
    private volatile boolean enabled;
    private volatile long version;

    MaintenanceFile(Path dataDir) {
        this.file = dataDir.resolve("maintenance");
        try {
            String s = DurableFile.read(file);
            if (s != null) {
                String[] parts = s.split(" ");
                enabled = parts[0].equals("on");
                version = Long.parseLong(parts[1]);
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(file + " cannot be read (" + e.getMessage() + "); remove it to clear maintenance mode", e);
        }
    }

    boolean enabled() {
        return enabled;
    }

    long version() {
        return version;
    }

    void set(boolean on, long v) {
        try {
            DurableFile.write(file, (on ? "on " : "off ") + v);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        enabled = on;
        version = v;
    }
}
