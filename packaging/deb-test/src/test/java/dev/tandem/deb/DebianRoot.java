package dev.tandem.deb;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Debian root made by debootstrap (minbase) from Debian's mirror, entered with chroot: the
 * package is installed with the root's own apt and dpkg, and programs run with its own libraries and
 * Java. One base root per release is made once per build (under target/roots) and copied for each use,
 * with /proc mounted (Java needs /proc/self). Roots share the machine's network: nodes inside listen on
 * loopback. Needs root (chroot, mount) and debootstrap.
 */
final class DebianRoot implements AutoCloseable {
    static final String MIRROR = System.getenv().getOrDefault("TANDEM_DEBIAN_MIRROR", "http://deb.debian.org/debian");
    static final Path ROOTS = Path.of(System.getProperty("tandem.roots", "target/roots")).toAbsolutePath();

    final String suite;
    final Path dir;
    private final List<Process> started = new ArrayList<>();
    private boolean mounted;

    private DebianRoot(String suite, Path dir) {
        this.suite = suite;
        this.dir = dir;
    }

    record Result(int exit, String out) {
        Result ok(String what) {
            if (exit != 0) throw new AssertionError(what + " failed (exit " + exit + "):\n" + out);
            return this;
        }
    }

    /** Why this machine cannot run the roots, or null when it can. */
    static String missing() {
        if (!"root".equals(System.getProperty("user.name"))) return "the Debian root tests need root (chroot, mount)";
        if (!Files.isExecutable(Path.of("/usr/sbin/debootstrap"))) return "install debootstrap (apt) to run the Debian root tests";
        return null;
    }

    /** A fresh copy of the release's base root, named {@code name}, /proc mounted. */
    static synchronized DebianRoot fresh(String suite, String name) throws Exception {
        Path base = base(suite);
        Path dir = ROOTS.resolve(suite + "-" + name);
        unmountUnder(dir);
        host(List.of("rm", "-rf", "--one-file-system", dir.toString()), 300).ok("rm " + dir);
        host(List.of("cp", "-a", base.toString(), dir.toString()), 300).ok("copy of " + base);
        DebianRoot r = new DebianRoot(suite, dir);
        host(List.of("mount", "-t", "proc", "proc", dir.resolve("proc").toString()), 30).ok("mount /proc in " + dir);
        r.mounted = true;
        return r;
    }

    /** debootstrap --variant=minbase, once per build and release; apt's lists fetched once too. */
    private static Path base(String suite) throws Exception {
        Path base = ROOTS.resolve(suite + "-base");
        Path done = ROOTS.resolve(suite + "-base.done");
        if (Files.exists(done)) return base;
        Files.createDirectories(ROOTS);
        unmountUnder(base);
        host(List.of("rm", "-rf", "--one-file-system", base.toString()), 300).ok("rm " + base);
        long t0 = System.nanoTime();
        host(List.of("debootstrap", "--variant=minbase", suite, base.toString(), MIRROR), 900).ok("debootstrap " + suite);
        Files.copy(Path.of("/etc/resolv.conf"), base.resolve("etc/resolv.conf"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        // point and security updates too, as on a real host
        Files.writeString(base.resolve("etc/apt/sources.list"), "deb " + MIRROR + " " + suite + " main\n"
                + "deb " + MIRROR + " " + suite + "-updates main\n" + "deb " + MIRROR + "-security " + suite + "-security main\n");
        DebianRoot r = new DebianRoot(suite, base);
        try {
            r.run(List.of("apt-get", "update", "-q"), 300).ok("apt-get update in " + suite);
        } finally {
            r.close();
        }
        System.out.printf("debian root %s: debootstrap + apt-get update %d s%n", suite, (System.nanoTime() - t0) / 1_000_000_000);
        Files.writeString(done, suite + "\n");
        return base;
    }

    /** A file inside the root, by its path in there. */
    Path path(String inside) {
        return dir.resolve(inside.replaceFirst("^/+", ""));
    }

    /** Runs a command in the root as root, with apt's non-interactive settings. */
    Result run(List<String> cmd, int timeoutSeconds) throws Exception {
        List<String> all = new ArrayList<>(List.of("chroot", dir.toString(), "/usr/bin/env", "-i",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8",
                "DEBIAN_FRONTEND=noninteractive", "APT_LISTCHANGES_FRONTEND=none"));
        all.addAll(cmd);
        return exec(all, timeoutSeconds);
    }

    Result sh(String script) throws Exception {
        return run(List.of("sh", "-ec", script), 600);
    }

    /** Runs a command in the root as {@code user} (a login-less environment, as systemd gives a service). */
    Result runAs(String user, List<String> cmd, int timeoutSeconds) throws Exception {
        List<String> all = new ArrayList<>(List.of("chroot", "--userspec=" + user + ":" + user, dir.toString(), "/usr/bin/env", "-i",
                "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent", "LANG=C.UTF-8"));
        all.addAll(cmd);
        return exec(all, timeoutSeconds);
    }

    /** Starts a long-running command in the root (already a full chroot command line); stopped at close. */
    Process start(List<String> cmd, Path log) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        return p;
    }

    static Result host(List<String> cmd, int timeoutSeconds) throws Exception {
        return exec(cmd, timeoutSeconds);
    }

    private static Result exec(List<String> cmd, int timeoutSeconds) throws Exception {
        Path out = Files.createTempFile("tandem-root-", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", cmd) + ": no end within " + timeoutSeconds + " s:\n" + tail(out));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static String tail(Path f) throws IOException {
        String s = Files.readString(f, StandardCharsets.UTF_8);
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }

    /** Lazily unmounts whatever is mounted under {@code dir} (a run that died left it), deepest first. */
    private static void unmountUnder(Path dir) throws Exception {
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] f = line.split(" ");
            if (f.length > 1 && (f[1].equals(dir.toString()) || f[1].startsWith(dir + "/"))) mounts.add(f[1]);
        }
        mounts.sort(java.util.Comparator.comparingInt(String::length).reversed());
        for (String m : mounts) host(List.of("umount", "-l", m), 30);
    }

    @Override
    public void close() throws Exception {
        for (Process p : started) {
            if (p.isAlive()) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
        started.clear();
        if (mounted || Files.exists(dir)) unmountUnder(dir);
        mounted = false;
    }
}
