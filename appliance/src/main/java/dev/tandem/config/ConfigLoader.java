package dev.tandem.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads tandem.yaml (SnakeYAML's node tree, so every value keeps its line), applies
 * {@code --set key.path=value} overrides and validates everything before anything starts.
 * Every problem names the key and where it was set. Loading (file, YAML tree, overrides) is here; the
 * rules are in {@link ConfigValidator}.
 */
public final class ConfigLoader {

    /** A value and where it came from ("tandem.yaml:7", "--set", "default"). */
    record Entry(Object value, String where) {
        boolean isNull() {
            return value == null;
        }
    }

    static final Pattern NAME = Pattern.compile("[a-z0-9-]{1,63}");
    static final Pattern ADDRESS = Pattern.compile("([A-Za-z0-9.\\-]+|\\[[0-9a-fA-F:]+\\]):(\\d{1,5})");

    /** Every key of SPEC section 3 (plus the few tandem adds), with its default. */
    static final Map<String, Object> DEFAULTS = defaults();

    private static Map<String, Object> defaults() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("node.name", "node-a");
        d.put("node.kind", "data");
        d.put("node.priority", "100");
        d.put("node.data_dir", "/var/lib/tandem");
        d.put("group.name", "default");
        d.put("group.bind", "127.0.0.1:7800");
        d.put("group.members", null); // default: just group.bind, a group of one
        d.put("group.secret_file", "/etc/tandem/cluster.key");
        d.put("group.quorum", "majority");
        d.put("group.preempt", "false");
        d.put("group.heartbeat_interval", "100ms");
        d.put("group.failure_timeout", "1s");
        d.put("replication.mode", "sync");
        d.put("replication.sync_timeout", "2s");
        d.put("replication.strict", "false");
        d.put("replication.fsync", "false");
        d.put("replication.log_retention", "1000000");
        d.put("http.bind", "0.0.0.0:8080");
        d.put("http.tls.cert", null);
        d.put("http.tls.key", null);
        d.put("http.tls.ca", null);
        d.put("http.forward_to_primary", "true");
        d.put("http.body_limit", "1MiB");
        d.put("http.client_timeout", "30s");
        d.put("http.metrics_public", "false");
        d.put("workflows.dir", null); // default: data_dir/workflows
        d.put("workflows.hook_timeout", "10s");
        d.put("workflows.request_timeout", "30s");
        d.put("workflows.load_timeout", "30s");
        // workflows.commands.<name>: [argv...] is an open mapping (see OPEN_MAPS); nothing by default
        return java.util.Collections.unmodifiableMap(d);
    }

    /** Sections whose keys the operator chooses: {@code workflows.commands.<name>: [argv...]}. */
    static final String COMMANDS = "workflows.commands";
    static final Pattern COMMAND_NAME = Pattern.compile("[a-z0-9_-]{1,63}");

    private ConfigLoader() {}

    static boolean isOpenMapKey(String key) {
        return key.startsWith(COMMANDS + ".") && key.length() > COMMANDS.length() + 1;
    }

    /** Loads {@code file} (may be null: defaults only) and applies the overrides, then validates. */
    public static TandemConfig load(Path file, List<String> overrides) throws ConfigException {
        return resolve(file, overrides).config;
    }

    /** The validated configuration together with where each value came from. */
    public record Resolved(TandemConfig config, Map<String, String> sources) {}

    public static Resolved resolve(Path file, List<String> overrides) throws ConfigException {
        List<String> problems = new ArrayList<>();
        Map<String, Entry> entries = new LinkedHashMap<>();
        DEFAULTS.forEach((k, v) -> entries.put(k, new Entry(v, "default")));
        if (file != null) {
            readFile(file, entries, problems);
        }
        for (String override : overrides) {
            applyOverride(override, entries, problems);
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        ConfigValidator v = new ConfigValidator(entries);
        TandemConfig config = v.build();
        if (!v.problems.isEmpty()) {
            throw new ConfigException(v.problems);
        }
        Map<String, String> sources = new LinkedHashMap<>();
        entries.forEach((k, e) -> sources.put(k, e.where()));
        return new Resolved(config, sources);
    }

    private static void readFile(Path file, Map<String, Entry> entries, List<String> problems) throws ConfigException {
        String label = file.toString();
        Node root;
        String text;
        try {
            if (Files.isDirectory(file)) throw new ConfigException(label + ": is a directory; pass the configuration file itself with --config FILE");
            byte[] bytes = Files.readAllBytes(file);
            if (bytes.length > MAX_FILE_BYTES) {
                throw new ConfigException(label + ": " + bytes.length + " bytes; a configuration file is at most " + MAX_FILE_BYTES + " bytes");
            }
            text = utf8(label, bytes);
        } catch (NoSuchFileException e) {
            throw new ConfigException(label + ": no such configuration file; pass an existing file with --config FILE");
        } catch (IOException e) {
            throw new ConfigException(label + ": cannot read: " + e.getMessage());
        }
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            options.setMaxAliasesForCollections(10);
            options.setNestingDepthLimit(20);
            options.setCodePointLimit(MAX_FILE_BYTES);
            root = new Yaml(options).compose(new java.io.StringReader(text));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
            throw new ConfigException(label + ":" + line + ": not valid YAML: " + e.getProblem()
                    + "; fix the syntax (indent with spaces, 'key: value')");
        } catch (YAMLException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("aliases")) {
                throw new ConfigException(label + ":" + firstAliasLine(text) + ": too many YAML aliases (*name): at most 10 are allowed;"
                        + " write the values out instead of repeating anchors");
            }
            throw new ConfigException(label + ": not valid YAML: " + m);
        }
        if (root == null) {
            return; // an empty file: all defaults
        }
        if (!(root instanceof MappingNode map)) {
            throw new ConfigException(label + ":" + line(root) + ": the top level must be a mapping of sections (node:, group:, ...)");
        }
        walk(map, "", label, entries, problems);
    }

    static final int MAX_FILE_BYTES = 1 << 20;

    /** The text of a configuration file, or the line of its first byte that is not UTF-8. */
    private static String utf8(String label, byte[] bytes) throws ConfigException {
        var decoder = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT).onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(bytes.length + 1);
        java.nio.charset.CoderResult r = decoder.decode(in, out, true);
        if (r.isError()) {
            int line = 1;
            for (int i = 0; i < in.position(); i++) if (bytes[i] == '\n') line++;
            throw new ConfigException(label + ":" + line + ": not UTF-8 (byte 0x" + String.format("%02x", bytes[in.position()] & 0xff)
                    + " at offset " + in.position() + "); save the file as UTF-8");
        }
        out.flip();
        return out.toString();
    }

    private static int firstAliasLine(String text) {
        var m = java.util.regex.Pattern.compile("(^|[\\s\\[{,:-])\\*[^\\s,\\]}]+", java.util.regex.Pattern.MULTILINE).matcher(text);
        if (!m.find()) return 1;
        int line = 1;
        for (int i = 0; i < m.start(); i++) if (text.charAt(i) == '\n') line++;
        return line;
    }

    private static int line(Node n) {
        return n.getStartMark().getLine() + 1;
    }

    private static void walk(MappingNode map, String prefix, String label, Map<String, Entry> entries, List<String> problems) {
        Set<String> seen = new java.util.HashSet<>();
        for (NodeTuple t : map.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode keyNode)) {
                problems.add(label + ":" + line(t.getKeyNode()) + ": keys must be plain words");
                continue;
            }
            String key = prefix + keyNode.getValue();
            String where = label + ":" + line(keyNode);
            if (!seen.add(key)) {
                problems.add(where + ": not valid YAML: duplicate key " + key + "; set each key once");
                continue;
            }
            Node value = t.getValueNode();
            if (key.equals(COMMANDS)) {
                if (value instanceof MappingNode sub) {
                    walkCommands(sub, label, entries, problems);
                } else if (!(value instanceof ScalarNode s && s.getTag().equals(Tag.NULL))) {
                    problems.add(where + ": " + key + ": expected a mapping of command names to argument lists, e.g. "
                            + "vip_claim: [/usr/sbin/ip, addr, replace, 192.0.2.10/24, dev, eth0]");
                }
            } else if (value instanceof MappingNode sub && isSection(key)) {
                walk(sub, key + ".", label, entries, problems);
            } else if (!entries.containsKey(key) || isSection(key)) {
                problems.add(where + ": " + key + ": unknown key" + suggestion(key));
            } else if (value instanceof ScalarNode s) {
                entries.put(key, new Entry(s.getTag().equals(Tag.NULL) ? null : s.getValue(), where));
            } else if (value instanceof SequenceNode seq) {
                entries.put(key, new Entry(scalars(seq, key, label, problems), where));
            } else {
                problems.add(where + ": " + key + ": expected a plain value, found a mapping");
            }
        }
    }

    /** The items of a YAML list, each of which must be a plain value. */
    private static List<String> scalars(SequenceNode seq, String key, String label, List<String> problems) {
        List<String> items = new ArrayList<>();
        for (Node item : seq.getValue()) {
            if (item instanceof ScalarNode s) {
                items.add(s.getValue());
            } else {
                problems.add(label + ":" + line(item) + ": " + key + ": list items must be plain values");
            }
        }
        return items;
    }

    private static void walkCommands(MappingNode map, String label, Map<String, Entry> entries, List<String> problems) {
        for (NodeTuple t : map.getValue()) {
            String where = label + ":" + line(t.getKeyNode());
            if (!(t.getKeyNode() instanceof ScalarNode keyNode)) {
                problems.add(where + ": " + COMMANDS + ": command names must be plain words");
                continue;
            }
            String key = COMMANDS + "." + keyNode.getValue();
            if (entries.containsKey(key)) {
                problems.add(where + ": not valid YAML: duplicate key " + key + "; set each key once");
            } else if (t.getValueNode() instanceof SequenceNode seq) {
                entries.put(key, new Entry(scalars(seq, key, label, problems), where));
            } else {
                problems.add(where + ": " + key + ": expected a list: the program and its arguments, e.g. "
                        + "[/usr/sbin/ip, addr, replace, 192.0.2.10/24, dev, eth0]");
            }
        }
    }

    private static boolean isSection(String key) {
        String dotted = key + ".";
        return DEFAULTS.keySet().stream().anyMatch(k -> k.startsWith(dotted));
    }

    private static String suggestion(String key) {
        String last = key.substring(key.lastIndexOf('.') + 1);
        for (String known : DEFAULTS.keySet()) {
            if (known.endsWith("." + last) || known.equals(last)) {
                return "; did you mean " + known + "?";
            }
        }
        return "; the keys are listed in the configuration reference (docs/configuration.md)";
    }

    private static void applyOverride(String override, Map<String, Entry> entries, List<String> problems) {
        int eq = override.indexOf('=');
        if (eq <= 0) {
            problems.add("--set " + override + ": write --set key.path=value, e.g. --set node.priority=50");
            return;
        }
        String key = override.substring(0, eq).trim();
        String text = override.substring(eq + 1).trim();
        if (!entries.containsKey(key) && !isOpenMapKey(key)) {
            problems.add("--set " + key + ": unknown key" + suggestion(key));
            return;
        }
        Object value;
        try {
            value = new Yaml(new LoaderOptions()).load(text);
        } catch (YAMLException e) {
            problems.add("--set " + key + ": '" + text + "' is not a valid value: " + e.getMessage());
            return;
        }
        if (value instanceof List<?> list) {
            value = list.stream().map(String::valueOf).toList();
        } else if (value instanceof Map<?, ?>) {
            problems.add("--set " + key + ": expected a plain value, found a mapping");
            return;
        } else if (value != null) {
            value = text;
        }
        entries.put(key, new Entry(value, "--set"));
    }
}
