package dev.tandem.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.function.LongSupplier;

/**
 * replication.fsync: group commit of fsyncs. H2 (WRITE_DELAY=0) has handed each commit to the OS when
 * commit() returns; {@link #flush} completes once an fsync of the database file that started after that
 * commit has finished. One fsync covers every commit before it, so under load many writes share one.
 */
final class Flusher implements AutoCloseable {
    private record Waiter(long lsn, CompletableFuture<Void> future) {}

    private final FileChannel channel;
    private final LongSupplier lastLsn;
    private final ExecutorService thread = dev.tandem.util.Threads.single("fsync");
    private final List<Waiter> waiting = new ArrayList<>();
    private boolean scheduled;

    Flusher(Path file, LongSupplier lastLsn) throws IOException {
        this.channel = FileChannel.open(file, StandardOpenOption.READ);
        this.lastLsn = lastLsn;
    }

    CompletableFuture<Void> flush(long lsn) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (waiting) {
            waiting.add(new Waiter(lsn, f));
            if (!scheduled) {
                scheduled = true;
                thread.execute(this::round);
            }
        }
        return f;
    }

    /** fsync now, on the calling thread (the secondary, before it acknowledges applied changes). */
    void flushNow() throws IOException {
        channel.force(false);
    }

    private void round() {
        List<Waiter> batch;
        synchronized (waiting) {
            batch = new ArrayList<>(waiting);
            waiting.clear();
            scheduled = false;
        }
        long covered = lastLsn.getAsLong(); // every commit up to here has reached the OS
        try {
            channel.force(false);
        } catch (IOException e) {
            batch.forEach(w -> w.future().completeExceptionally(new StoreException("fsync failed: " + e.getMessage(), e)));
            return;
        }
        List<Waiter> later = new ArrayList<>();
        for (Waiter w : batch) {
            if (w.lsn() <= covered) w.future().complete(null);
            else later.add(w);
        }
        for (Waiter w : later) flush(w.lsn()).whenComplete((v, e) -> {
            if (e != null) w.future().completeExceptionally(e);
            else w.future().complete(null);
        });
    }

    @Override
    public void close() throws IOException {
        thread.shutdownNow();
        channel.close();
    }
}
