package dev.tandem.deb;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The [Service] section of an installed systemd unit, read so that a test starts the node exactly as
 * systemd would from it where PID 1 is not systemd: the same user and group, ExecStart, UMask and the
 * environment systemd gives a service (HOME, USER, LOGNAME, SHELL from passwd; STATE_DIRECTORY and
 * CACHE_DIRECTORY from StateDirectory= and CacheDirectory=).
 */
record UnitFile(Path file, Map<String, String> service) {
    static UnitFile read(Path file) throws IOException {
        Map<String, String> service = new LinkedHashMap<>();
        String section = "";
        for (String raw : Files.readAllLines(file)) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) continue;
            if (line.startsWith("[")) {
                section = line;
                continue;
            }
            int eq = line.indexOf('=');
            if (section.equals("[Service]") && eq > 0) service.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
        }
        return new UnitFile(file, service);
    }

    String get(String key) {
        String v = service.get(key);
        if (v == null) throw new AssertionError(file + " has no " + key + "=");
        return v;
    }

    /** The chroot command line for this unit's ExecStart in {@code root}; {@code instance} fills %i (template units). */
    List<String> command(DebianRoot root, String instance) throws IOException {
        String user = get("User"), group = service.getOrDefault("Group", user);
        String[] pw = Files.readAllLines(root.path("/etc/passwd")).stream().map(l -> l.split(":", -1))
                .filter(f -> f.length >= 7 && f[0].equals(user)).findFirst()
                .orElseThrow(() -> new AssertionError("user " + user + " (User= of " + file.getFileName() + ") is not in the root's /etc/passwd"));
        String exec = get("ExecStart").replace("%i", instance == null ? "" : instance);
        if (exec.startsWith("-") || exec.startsWith("@") || exec.startsWith("+") || exec.contains("$")) {
            throw new AssertionError("ExecStart prefixes and variables are not modelled here: " + exec);
        }
        List<String> cmd = new ArrayList<>(List.of("chroot", "--userspec=" + user + ":" + group, root.dir.toString(), "/usr/bin/env", "-i",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", "LANG=C.UTF-8",
                "USER=" + user, "LOGNAME=" + user, "HOME=" + pw[5], "SHELL=" + pw[6]));
        String state = service.get("StateDirectory"), cache = service.get("CacheDirectory");
        if (state != null) cmd.add("STATE_DIRECTORY=/var/lib/" + state.replace("%i", instance == null ? "" : instance));
        if (cache != null) cmd.add("CACHE_DIRECTORY=/var/cache/" + cache.replace("%i", instance == null ? "" : instance));
        String umask = service.getOrDefault("UMask", "0022");
        // umask, then exec: the node's PID is the one the test signals, as systemd's MainPID
        cmd.addAll(List.of("/bin/sh", "-c", "umask " + umask + " && exec \"$@\"", "unit"));
        cmd.addAll(List.of(exec.split("\\s+")));
        return cmd;
    }
}
