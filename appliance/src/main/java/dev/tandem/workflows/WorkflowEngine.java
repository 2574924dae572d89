package dev.tandem.workflows;

import dev.tandem.store.Store;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.HostAccess;
import org.graalvm.polyglot.io.IOAccess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads workflows from a directory into GraalPy contexts that share one Engine (the first context
 * costs seconds, later ones a fraction of that). Each context may read only its workflow's folder
 * and the tandem API library; it has no host classes, processes or network, and runs host programs
 * only through {@link HostCommands}, the ones the operator configured.
 */
public final class WorkflowEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkflowEngine.class);
    /** Workflow names are their folder names; names starting with '_' or '.' are reserved. */
    public static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
    private static final HostAccess HOST_ACCESS = HostAccess.newBuilder().allowAccessAnnotatedBy(HostAccess.Export.class)
            .allowArrayAccess(true).allowListAccess(true).build();

    static {
        // a stock JDK runs Truffle interpreted; that is expected here, not worth a warning per start
        System.setProperty("polyglotimpl.AttachLibraryFailureAction",
                System.getProperty("polyglotimpl.AttachLibraryFailureAction", "ignore"));
    }

    private final Engine engine;
    private final Path libDir;
    private final Store store;
    private final NodeView node;
    private final HostCommands commands;
    private final Map<String, Workflow> workflows = new ConcurrentHashMap<>();
    /** Installing a workflow and delivering an event to "all workflows" exclude each other (see {@link #forEach}). */
    private final Object installLock = new Object();
    private volatile java.util.function.Consumer<Workflow> onInstall = wf -> {};
    private volatile java.time.Duration requestTimeout = java.time.Duration.ofSeconds(30), loadTimeout = java.time.Duration.ofSeconds(30);

    public WorkflowEngine(Path libDir, Store store, NodeView node) {
        this(libDir, store, node, HostCommands.NONE);
    }

    /** @param commands the host programs workflows may run ({@code workflows.commands}) */
    public WorkflowEngine(Path libDir, Store store, NodeView node, HostCommands commands) {
        this.libDir = libDir;
        this.store = store;
        this.node = node;
        this.commands = commands;
        extractApiLibrary(libDir);
        this.engine = Engine.newBuilder("python").option("engine.WarnInterpreterOnly", "false").build();
    }

    /** Writes the Python packages of hooks-api (tandem, availability_group) to {@code dir}, replacing older copies. */
    static void extractApiLibrary(Path dir) {
        ClassLoader cl = WorkflowEngine.class.getClassLoader();
        try (InputStream index = cl.getResourceAsStream("python/INDEX")) {
            if (index == null) throw new IllegalStateException("python/INDEX is missing from the class path: the tandem-hooks-api jar is not there");
            for (String rel : new String(index.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (rel.isBlank()) continue;
                Path target = dir.resolve(rel.strip());
                Files.createDirectories(target.getParent());
                Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
                try (InputStream in = cl.getResourceAsStream("python/" + rel.strip())) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the tandem Python library to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** {@code workflows.request_timeout} and {@code workflows.load_timeout}, for workflows loaded from now on. */
    public WorkflowEngine timeouts(java.time.Duration request, java.time.Duration load) {
        this.requestTimeout = request;
        this.loadTimeout = load;
        return this;
    }

    /** Loads every workflow folder (one holding workflow.py) in {@code dir}; returns them by name. Blocking. */
    public List<Workflow> loadAll(Path dir) {
        List<Workflow> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            log.warn("workflows.dir {} does not exist; no workflows loaded", dir);
            return out;
        }
        List<Path> folders;
        try (Stream<Path> s = Files.list(dir)) {
            folders = s.filter(p -> Files.isRegularFile(p.resolve("workflow.py"))).sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list workflows.dir " + dir + ": " + e.getMessage(), e);
        }
        for (Path folder : folders) {
            String name = folder.getFileName().toString();
            if (!NAME.matcher(name).matches()) {
                log.warn("skipping workflow folder {}: a workflow's name is its folder's, 1-63 of a-z, 0-9, '_' and '-', starting with a letter", folder);
                continue;
            }
            out.add(load(name, folder));
        }
        return out;
    }

    /** Loads (or reloads) one workflow. A workflow whose code fails is kept with its error and serves 503. */
    public Workflow load(String name, Path folder) {
        long t0 = System.nanoTime();
        PythonHost host = new PythonHost(store, name, node, commands);
        Context context = Context.newBuilder("python")
                .engine(engine)
                .allowHostAccess(HOST_ACCESS)
                .allowCreateThread(true) // Python threads (e.g. a job started by a role hook); no processes, no host classes
                .allowIO(IOAccess.newBuilder().fileSystem(new ReadOnlyRootsFileSystem(List.of(libDir, folder, resourceCache()))).build())
                .option("python.PythonPath", libDir.toAbsolutePath() + ":" + folder.toAbsolutePath())
                .option("python.ForceImportSite", "false")
                .option("python.DontWriteBytecodeFlag", "true")
                .out(new OutputCapture(System.out))
                .err(new OutputCapture(System.err))
                .build();
        Workflow wf = Workflow.load(name, folder, context, host, loadTimeout.toMillis(), requestTimeout.toMillis());
        Workflow old;
        synchronized (installLock) {
            old = workflows.put(name, wf);
            onInstall.accept(wf);
        }
        if (old != null) old.close();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (wf.loaded()) {
            log.info("workflow {} loaded in {} ms: {} routes", name, ms, wf.routes().size());
        } else {
            log.error("workflow {} failed to load; it answers 503 until fixed:\n{}", name, wf.loadError());
        }
        return wf;
    }

    /** Where GraalPy extracts its language home (standard library); workflows read it, never write it. */
    static Path resourceCache() {
        String configured = System.getProperty("polyglot.engine.userResourceCache");
        return configured != null ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "org.graalvm.polyglot");
    }

    /**
     * Called, in order with {@link #forEach}, for every workflow loaded from now on: the node uses it to
     * give a workflow deployed at run time its first role call (SPEC 6, hook delivery 1) before any
     * later event reaches it.
     */
    public void onInstall(java.util.function.Consumer<Workflow> action) {
        this.onInstall = action;
    }

    /** Runs {@code action} on every workflow, with no workflow installed meanwhile. */
    public void forEach(java.util.function.Consumer<Workflow> action) {
        synchronized (installLock) {
            all().forEach(action);
        }
    }

    /** Stops and forgets workflow {@code name}; false when there was none. */
    public boolean unload(String name) {
        Workflow old;
        synchronized (installLock) {
            old = workflows.remove(name);
        }
        if (old != null) old.close();
        return old != null;
    }

    public Workflow get(String name) {
        return workflows.get(name);
    }

    public Collection<Workflow> all() {
        return workflows.values().stream().sorted((a, b) -> a.name().compareTo(b.name())).toList();
    }

    @Override
    public void close() {
        workflows.values().forEach(Workflow::close);
        workflows.clear();
        // a context left behind by a workflow's close (its code would not stop) would hold the engine's close forever
        if (!Workflow.closeWithin(() -> engine.close(true), 2000, "workflow-engine-close")) {
            log.error("the GraalPy engine did not close within 2 s: a workflow's code is "
                    + "still running; it is left behind and the node goes on stopping");
        }
    }
}
