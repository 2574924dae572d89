package dev.tandem.admin;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

/**
 * A workflow as deployed: a zip holding {@code workflow.py} at its top (or inside one top folder) and
 * any helper files. Unpacking refuses what could escape the target or exhaust the disk: absolute
 * paths, {@code ..}, more than {@link #MAX_FILES} entries or {@link #MAX_BYTES} unpacked.
 */
public final class WorkflowBundle {
    static final int MAX_FILES = 2_000;
    static final long MAX_BYTES = 64L << 20;

    private WorkflowBundle() {}

    /** A deployment that cannot be accepted; the message says what is wrong and how to fix it. */
    public static final class BadBundleException extends Exception {
        BadBundleException(String message) {
            super(message);
        }
    }

    public static String sha256(byte[] zip) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(zip));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Checks {@code zip} without writing anything; returns the file names it would unpack. */
    public static List<String> check(byte[] zip) throws BadBundleException {
        return entries(zip, null);
    }

    /** Unpacks {@code zip} into the empty or missing directory {@code target}. */
    public static List<String> unpack(byte[] zip, Path target) throws BadBundleException, IOException {
        Files.createDirectories(target);
        return entries(zip, target);
    }

    private static List<String> entries(byte[] zip, Path target) throws BadBundleException {
        List<String> names = new ArrayList<>();
        try {
            String prefix = commonTopFolder(zip);
            long total = 0;
            try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
                byte[] buf = new byte[64 * 1024];
                for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                    String name = e.getName().replace('\\', '/');
                    if (name.startsWith("/") || name.matches("^[A-Za-z]:.*") || List.of(name.split("/")).contains("..")) {
                        throw new BadBundleException("the zip entry '" + e.getName() + "' points outside the workflow folder; "
                                + "zip the folder's contents with relative paths (cd myflow && zip -r ../myflow.zip .)");
                    }
                    String rel = name.substring(prefix.length());
                    if (rel.isEmpty() || e.isDirectory()) continue;
                    if (names.size() >= MAX_FILES) {
                        throw new BadBundleException("the zip holds more than " + MAX_FILES + " files; a workflow needs far fewer");
                    }
                    names.add(rel);
                    OutputStream out = null;
                    if (target != null) {
                        Path file = target.resolve(rel).normalize();
                        if (!file.startsWith(target)) throw new BadBundleException("the zip entry '" + e.getName() + "' points outside the workflow folder");
                        Files.createDirectories(file.getParent());
                        out = Files.newOutputStream(file);
                    }
                    try {
                        for (int n; (n = in.read(buf)) > 0; ) {
                            total += n;
                            if (total > MAX_BYTES) {
                                throw new BadBundleException("the zip unpacks to more than " + (MAX_BYTES >> 20) + " MiB; leave data files out of the workflow");
                            }
                            if (out != null) out.write(buf, 0, n);
                        }
                    } finally {
                        if (out != null) out.close();
                    }
                }
            }
        } catch (ZipException e) {
            throw new BadBundleException("the body is not a valid zip (" + e.getMessage() + "); send the workflow folder zipped");
        } catch (IOException e) {
            throw new BadBundleException("the zip cannot be read: " + e.getMessage());
        }
        if (names.isEmpty()) throw new BadBundleException("the body is not a zip or the zip is empty; send the workflow folder zipped");
        if (!names.contains("workflow.py")) {
            throw new BadBundleException("the zip has no workflow.py at its top (found: " + names.subList(0, Math.min(names.size(), 5))
                    + "); a workflow is a folder with workflow.py");
        }
        return names;
    }

    /** "folder/" when every entry lies inside one top folder that holds workflow.py, else "". */
    private static String commonTopFolder(byte[] zip) throws IOException {
        String top = null;
        boolean rootWorkflow = false;
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                String name = e.getName().replace('\\', '/');
                if (name.equals("workflow.py")) rootWorkflow = true;
                int slash = name.indexOf('/');
                String first = slash < 0 ? "" : name.substring(0, slash + 1);
                if (top == null) top = first;
                else if (!top.equals(first)) return "";
            }
        }
        return rootWorkflow || top == null ? "" : top;
    }
}
