package dev.tandem.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkflowBundleTest {
    @TempDir
    Path dir;

    static byte[] zip(Map<String, String> files) throws Exception {
        var bytes = new ByteArrayOutputStream();
        try (var z = new ZipOutputStream(bytes)) {
            for (var e : files.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void unpacksAFolderZippedFromInsideOrWithItsTopFolder() throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        assertThat(WorkflowBundle.unpack(zip(Map.of("workflow.py", "x = 1", "lib/util.py", "y = 2")), a))
                .containsExactlyInAnyOrder("workflow.py", "lib/util.py");
        assertThat(Files.readString(a.resolve("lib/util.py"))).isEqualTo("y = 2");
        Map<String, String> nested = new LinkedHashMap<>();
        nested.put("myflow/", "");
        nested.put("myflow/workflow.py", "x = 1");
        WorkflowBundle.unpack(zip(Map.of("myflow/workflow.py", "x = 1", "myflow/README.md", "hi")), b);
        assertThat(b.resolve("workflow.py")).hasContent("x = 1");
        assertThat(b.resolve("README.md")).exists();
    }

    @Test
    void refusesWhatCouldEscapeOrIsNotAWorkflow() throws Exception {
        assertThatThrownBy(() -> WorkflowBundle.unpack(zip(Map.of("workflow.py", "", "../evil.py", "")), dir.resolve("x")))
                .hasMessageContaining("points outside the workflow folder").hasMessageContaining("zip -r");
        assertThat(dir.resolve("evil.py")).doesNotExist();
        assertThatThrownBy(() -> WorkflowBundle.check(zip(Map.of("/etc/cron.d/x", "", "workflow.py", ""))))
                .hasMessageContaining("outside");
        assertThatThrownBy(() -> WorkflowBundle.check(zip(Map.of("README.md", "")))).hasMessageContaining("no workflow.py");
        assertThatThrownBy(() -> WorkflowBundle.check("not a zip".getBytes(StandardCharsets.UTF_8))).hasMessageContaining("not a zip");
        assertThatThrownBy(() -> WorkflowBundle.check(new byte[0])).hasMessageContaining("zip");
        Map<String, String> many = new LinkedHashMap<>();
        many.put("workflow.py", "");
        for (int i = 0; i <= WorkflowBundle.MAX_FILES; i++) many.put("f" + i, "");
        assertThatThrownBy(() -> WorkflowBundle.check(zip(many))).hasMessageContaining("more than " + WorkflowBundle.MAX_FILES);
    }

    /** Raw entries, in order (a Map cannot hold a name twice); an entry ending in '/' is a folder. */
    private static byte[] rawZip(String... names) throws Exception {
        var bytes = new ByteArrayOutputStream();
        try (var z = new ZipOutputStream(bytes)) {
            for (String n : names) {
                z.putNextEntry(new ZipEntry(n));
                if (!n.endsWith("/")) z.write("x = 1".getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void refusesBeforeCommittingEveryNameThatCannotBeUnpacked() throws Exception {
        assertThatThrownBy(() -> WorkflowBundle.check(rawZip("workflow.py", "lib/a\u0000b.py")))
                .hasMessageContaining("control character (code 0)").hasMessageContaining("\\x00");
        assertThatThrownBy(() -> WorkflowBundle.check(rawZip("workflow.py", "workflow.py/inner.txt")))
                .hasMessageContaining("both as a file and as a folder");
        assertThatThrownBy(() -> WorkflowBundle.check(rawZip("lib/x/a.py", "lib", "workflow.py")))
                .hasMessageContaining("both as a file and as a folder");
        assertThatThrownBy(() -> WorkflowBundle.check(rawZip("workflow.py", "lib\\evil.py"))).hasMessageContaining("'\\'");
        assertThatThrownBy(() -> WorkflowBundle.check(rawZip("workflow.py", "a//b.py"))).hasMessageContaining("empty");
        assertThatThrownBy(() -> WorkflowBundle.check(rawZip("workflow.py", "x".repeat(300) + ".py"))).hasMessageContaining("longer than 255");
        // a name that is not UTF-8 (the zip's names are bytes; flag bit 11 set claims UTF-8)
        byte[] z = rawZip("workflow.py", "lib/abc.py");
        byte[] bad = z.clone();
        for (int i = 0; i + 9 < bad.length; i++) {
            if (new String(bad, i, 10, StandardCharsets.ISO_8859_1).equals("lib/abc.py")) bad[i + 4] = (byte) 0xff;
        }
        assertThatThrownBy(() -> WorkflowBundle.check(bad)).isInstanceOf(WorkflowBundle.BadBundleException.class);
        assertThat(WorkflowBundle.check(rawZip("lib/", "lib/a.py", "workflow.py"))).containsExactly("lib/a.py", "workflow.py");
    }

    @Test
    void refusesAZipBomb() throws Exception {
        var bytes = new ByteArrayOutputStream();
        try (var z = new ZipOutputStream(bytes)) {
            z.putNextEntry(new ZipEntry("workflow.py"));
            z.closeEntry();
            z.putNextEntry(new ZipEntry("big.bin"));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i <= WorkflowBundle.MAX_BYTES >> 20; i++) z.write(zeros);
            z.closeEntry();
        }
        assertThat(bytes.size()).as("small on the wire").isLessThan(1 << 20);
        assertThatThrownBy(() -> WorkflowBundle.check(bytes.toByteArray())).hasMessageContaining("more than 64 MiB");
    }
}
