package dev.tandem.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A small ext4 filesystem in an image file, loop-mounted on a directory: a data_dir that can fill up. Needs
 * root (mount, losetup); {@link #create} says why when it cannot be made. {@link #fill} takes every free
 * block, {@link #free} gives them back, {@link #close} unmounts.
 */
public final class LoopDisk implements AutoCloseable {
    public final Path mountPoint;
    private final Path image;

    private LoopDisk(Path image, Path mountPoint) {
        this.image = image;
        this.mountPoint = mountPoint;
    }

    /** Why a loop disk cannot be made here, or null if it can be tried. */
    public static String unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) return "not root: mounting a loop device needs root";
        for (String tool : List.of("/usr/sbin/mkfs.ext4", "/usr/bin/mount", "/usr/bin/umount")) {
            if (!Files.isExecutable(Path.of(tool))) return tool + " is missing";
        }
        if (!Files.exists(Path.of("/dev/loop-control"))) return "no /dev/loop-control: this machine has no loop devices";
        return null;
    }

    /** An image of {@code mib} MiB at {@code image}, formatted and mounted on {@code mountPoint} (created, must be empty). */
    public static LoopDisk create(Path image, int mib, Path mountPoint) throws IOException, InterruptedException {
        Files.createDirectories(mountPoint);
        HostCommand.run("truncate", "-s", mib + "M", image.toString());
        HostCommand.run("/usr/sbin/mkfs.ext4", "-q", "-F", "-m", "0", image.toString());
        HostCommand.run("/usr/bin/mount", "-o", "loop", image.toString(), mountPoint.toString());
        return new LoopDisk(image, mountPoint);
    }

    public long usableBytes() throws IOException {
        return Files.getFileStore(mountPoint).getUsableSpace();
    }

    /** MiB in use on it now (the node's files and any filler). */
    public long usedMiB() throws IOException {
        var store = Files.getFileStore(mountPoint);
        return (store.getTotalSpace() - store.getUsableSpace()) >> 20;
    }

    /** Takes every free block: one file as large as the space left, then whatever a write of zeros still finds. */
    public void fill() throws IOException, InterruptedException {
        long free = usableBytes() - (1 << 20); // the node writes meanwhile: leave it a little, which the zeros below take
        if (free > 0) HostCommand.exec("fallocate", "-l", String.valueOf(free), mountPoint.resolve("filler").toString());
        HostCommand.exec("dd", "if=/dev/zero", "of=" + mountPoint.resolve("filler2"), "bs=4k"); // ends with "no space left", as it should
        if (usableBytes() > (1 << 16)) throw new IOException("could not fill " + mountPoint + ": " + usableBytes() + " bytes still free");
    }

    /** Gives the space back. */
    public void free() throws IOException {
        Files.deleteIfExists(mountPoint.resolve("filler"));
        Files.deleteIfExists(mountPoint.resolve("filler2"));
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (HostCommand.exec("/usr/bin/umount", mountPoint.toString()) != 0) HostCommand.exec("/usr/bin/umount", "-l", mountPoint.toString());
        Files.deleteIfExists(image);
    }
}
