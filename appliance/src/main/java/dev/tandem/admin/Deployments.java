package dev.tandem.admin;

import dev.tandem.workflows.Workflow;
import dev.tandem.workflows.WorkflowEngine;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the workflows this node runs match what the group deployed: the {@code _system} records
 * (replicated like any data) are the truth; {@code data_dir/deployed/<name>/} holds each one
 * unpacked, with the sha256 it was unpacked from in {@code .tandem-sha256}. A reconcile runs when
 * the node starts, when it becomes primary, after a deploy on this node, and whenever replicated
 * changes of {@code _system} arrive or a snapshot is installed (coalesced: one runs, at most one
 * waits), so a workflow deployed on the primary is loaded on the secondary before a failover needs it. A deployed workflow takes precedence over one of the same name in
 * {@code workflows.dir}; removing it brings the local one back.
 */
public final class Deployments implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Deployments.class);
    static final String SHA_FILE = ".tandem-sha256";
    private final SystemStore system;
    private final WorkflowEngine engine;
    private final Path deployedDir, localDir;
    private final BiConsumer<String, JsonObject> events;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "deployments");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean pending = new AtomicBoolean();

    /**
     * @param events told WORKFLOW_DEPLOYED / WORKFLOW_REMOVED with {name, sha256, state}
     */
    public Deployments(SystemStore system, WorkflowEngine engine, Path deployedDir, Path localDir, BiConsumer<String, JsonObject> events) {
        this.system = system;
        this.engine = engine;
        this.deployedDir = deployedDir;
        this.localDir = localDir;
        this.events = events;
    }

    /** Asks for a reconcile soon, on the deployments thread; cheap, never blocks. */
    public void requestReconcile() {
        if (pending.compareAndSet(false, true)) {
            executor.execute(() -> {
                pending.set(false);
                try {
                    reconcile();
                } catch (RuntimeException e) {
                    log.error("reconciling deployed workflows failed; the next change retries", e);
                }
            });
        }
    }

    /** Reconciles now, on the caller's thread (startup, and after a deploy on this node). */
    public synchronized void reconcile() {
        Map<String, JsonObject> want = system.deployed();
        for (var e : want.entrySet()) {
            String name = e.getKey(), sha = e.getValue().getString("sha256");
            Path dir = deployedDir.resolve(name);
            Workflow running = engine.get(name);
            boolean current = sha.equals(readSha(dir));
            if (current && running != null && running.dir().equals(dir)) continue;
            try {
                if (!current) unpack(name, sha, dir);
                Workflow wf = engine.load(name, dir);
                log.info("deployed workflow {} ({}) {}", name, sha.substring(0, 12), wf.loaded() ? "loaded" : "failed to load");
                events.accept("WORKFLOW_DEPLOYED", new JsonObject().put("workflow", name).put("sha256", sha)
                        .put("state", wf.loaded() ? "loaded" : "failed").put("error", wf.loadError()));
            } catch (IOException | WorkflowBundle.BadBundleException ex) {
                log.error("cannot unpack deployed workflow {} into {}: {}", name, dir, ex.getMessage());
            }
        }
        try (Stream<Path> s = Files.isDirectory(deployedDir) ? Files.list(deployedDir) : Stream.empty()) {
            for (Path dir : s.filter(Files::isDirectory).toList()) {
                String name = dir.getFileName().toString();
                if (name.startsWith(".") || want.containsKey(name)) continue;
                Workflow running = engine.get(name);
                if (running != null && running.dir().equals(dir)) {
                    Path local = localDir == null ? null : localDir.resolve(name);
                    if (local != null && Files.isRegularFile(local.resolve("workflow.py"))) engine.load(name, local);
                    else engine.unload(name);
                    events.accept("WORKFLOW_REMOVED", new JsonObject().put("workflow", name));
                    log.info("deployed workflow {} removed{}", name, engine.get(name) != null ? "; the local one in workflows.dir serves again" : "");
                }
                deleteTree(dir);
            }
        } catch (IOException e) {
            log.error("cannot list {}: {}", deployedDir, e.getMessage());
        }
    }

    /** Unpacks into a fresh folder beside the target, then swaps it in, so a crash leaves the old or the new one, whole. */
    private void unpack(String name, String sha, Path dir) throws IOException, WorkflowBundle.BadBundleException {
        byte[] zip = system.zip(name);
        if (zip == null) throw new IOException("the zip of " + name + " is missing from the store");
        Path tmp = deployedDir.resolve(".new-" + name);
        deleteTree(tmp);
        WorkflowBundle.unpack(zip, tmp);
        Files.writeString(tmp.resolve(SHA_FILE), sha + "\n");
        Path old = deployedDir.resolve(".old-" + name);
        deleteTree(old);
        if (Files.exists(dir)) Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
    }

    private static String readSha(Path dir) {
        try {
            return Files.readString(dir.resolve(SHA_FILE)).strip();
        } catch (IOException e) {
            return null;
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
