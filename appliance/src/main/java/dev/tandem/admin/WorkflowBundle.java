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

    /**
     * Checks {@code zip} completely before anything is committed: every name, type, clash and size, and
     * that it really unpacks (into a scratch folder that is removed again). Returns the file names.
     */
    public static List<String> check(byte[] zip) throws BadBundleException {
        List<String> names = entries(zip, null);
        Path scratch = null;
        try {
            scratch = Files.createTempDirectory("tandem-bundle-check");
            entries(zip, scratch.resolve("w"));
        } catch (IOException | RuntimeException e) {
            throw new BadBundleException("the zip cannot be unpacked: " + e.getMessage() + "; zip the workflow folder again");
        } finally {
            if (scratch != null) {
                try {
                    Deployments.deleteTree(scratch);
                } catch (IOException ignored) {
                    // a scratch folder under the temporary directory; the system cleans it
                }
            }
        }
        return names;
    }

    static final int MAX_NAME = 255, MAX_PATH = 1024;

    /** Why {@code name} (an entry's path inside the zip, '/'-separated) cannot be a file of a workflow, or null. */
    static String badName(String name) {
        if (name.length() > MAX_PATH) return "is longer than " + MAX_PATH + " characters";
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            if (ch < 0x20 || ch == 0x7f) return "holds a control character (code " + (int) ch + ")";
            if (ch == '\\' || ch == ':') return "holds '" + ch + "'; use '/' between folders and plain names";
        }
        if (name.startsWith("/")) return "is absolute: it points outside the workflow folder";
        String[] parts = name.split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.isEmpty() && i == parts.length - 1) continue; // a folder entry ends with '/'
            if (p.equals("..")) return "points outside the workflow folder";
            if (p.isEmpty() || p.equals(".")) return "has an empty or '.' part";
            if (p.length() > MAX_NAME) return "has a part longer than " + MAX_NAME + " characters";
        }
        return null;
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
                java.util.Set<String> files = new java.util.HashSet<>(), folders = new java.util.HashSet<>();
                for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                    String name = e.getName();
                    String bad = badName(name);
                    if (bad != null) {
                        throw new BadBundleException("the zip entry '" + printable(name) + "' " + bad + "; zip the folder's contents with "
                                + "relative paths and plain file names (cd myflow && zip -r ../myflow.zip .)");
                    }
                    String rel = name.substring(prefix.length());
                    if (rel.isEmpty()) continue;
                    if (e.isDirectory()) {
                        String folder = rel.substring(0, rel.length() - 1);
                        if (files.contains(folder)) throw clash(folder);
                        addFolders(folder + "/x", folders, files);
                        continue;
                    }
                    if (names.size() >= MAX_FILES) {
                        throw new BadBundleException("the zip holds more than " + MAX_FILES + " files; a workflow needs far fewer");
                    }
                    if (!files.add(rel)) throw new BadBundleException("the zip holds '" + printable(rel) + "' twice; zip the folder again");
                    if (folders.contains(rel)) throw clash(rel);
                    addFolders(rel, folders, files);
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
        } catch (IllegalArgumentException e) {
            // ZipInputStream: a name that is not valid UTF-8; Path: a name the file system refuses
            throw new BadBundleException("the zip has an entry whose name cannot be a file name (" + e.getMessage()
                    + "); use plain UTF-8 file names");
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

    /** Records the folders above {@code rel}; refuses a folder that is also a file of the zip. */
    private static void addFolders(String rel, java.util.Set<String> folders, java.util.Set<String> files) throws BadBundleException {
        for (int i = rel.indexOf('/'); i > 0; i = rel.indexOf('/', i + 1)) {
            String folder = rel.substring(0, i);
            if (files.contains(folder)) throw clash(folder);
            folders.add(folder);
        }
    }

    private static BadBundleException clash(String name) {
        return new BadBundleException("the zip holds '" + printable(name) + "' both as a file and as a folder; a name can be only one");
    }

    /** A zip entry name fit to print in an error: control characters escaped, length bounded. */
    public static String printable(String name) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < name.length() && b.length() < 120; i++) {
            char ch = name.charAt(i);
            if (ch < 0x20 || ch == 0x7f) b.append(String.format("\\x%02x", (int) ch));
            else b.append(ch);
        }
        return name.length() > 120 ? b + "..." : b.toString();
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
