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
    private final ExecutorService executor = dev.tandem.util.Threads.single("deployments");
    private final AtomicBoolean pending = new AtomicBoolean();
    /** Deployed records this node could not apply, by name: {sha256, error}. Reported, skipped, retried when the record changes. */
    private final Map<String, JsonObject> failures = new java.util.concurrent.ConcurrentHashMap<>();

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
        Map<String, JsonObject> want;
        try {
            want = system.deployed();
        } catch (RuntimeException e) {
            log.error("cannot read the deployed workflows from the store; the next change retries: {}", e.getMessage());
            return;
        }
        for (var e : want.entrySet()) {
            String name = e.getKey(), sha = String.valueOf(e.getValue().getString("sha256"));
            Path dir = WorkflowEngine.NAME.matcher(name).matches() ? deployedDir.resolve(name) : null;
            Workflow running = engine.get(name);
            boolean current = dir != null && sha.equals(readSha(dir));
            if (current && running != null && running.dir().equals(dir)) continue;
            JsonObject failed = failures.get(name);
            if (failed != null && sha.equals(failed.getString("sha256"))) continue; // reported once; a new deploy retries
            failures.remove(name);
            // one record that cannot be applied here is reported and skipped: it never stops the others, nor the node
            try {
                if (dir == null) throw new IOException("'" + WorkflowBundle.printable(name) + "' is not a workflow name");
                if (!current) unpack(name, sha, dir);
                Workflow wf = engine.load(name, dir);
                log.info("deployed workflow {} ({}) {}", name, sha.substring(0, 12), wf.loaded() ? "loaded" : "failed to load");
                events.accept("WORKFLOW_DEPLOYED", new JsonObject().put("workflow", name).put("sha256", sha)
                        .put("state", wf.loaded() ? "loaded" : "failed").put("error", wf.loadError()));
            } catch (IOException | WorkflowBundle.BadBundleException | RuntimeException ex) {
                String why = "cannot apply the deployed workflow on this node: " + ex.getMessage();
                failures.put(name, new JsonObject().put("sha256", sha).put("error", why));
                log.error("deployed workflow {} ({}) skipped: {}", WorkflowBundle.printable(name), sha.substring(0, Math.min(12, sha.length())), why);
                events.accept("WORKFLOW_DEPLOY_FAILED", new JsonObject().put("workflow", WorkflowBundle.printable(name)).put("sha256", sha)
                        .put("error", why));
            }
        }
        failures.keySet().retainAll(want.keySet());
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

    /** Why the deployed record {@code name} could not be applied on this node, or null. */
    public String failure(String name) {
        JsonObject f = failures.get(name);
        return f == null ? null : f.getString("error");
    }

    /** The deployed records this node could not apply: name -> error. */
    public Map<String, String> failures() {
        Map<String, String> out = new java.util.TreeMap<>();
        failures.forEach((k, v) -> out.put(k, v.getString("error")));
        return out;
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
