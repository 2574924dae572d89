package dev.tandem.cli;

import dev.tandem.config.ConfigException;
import dev.tandem.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --config FILE} and {@code --set key=value}, shared by the commands that read a configuration. */
final class ConfigOptions {
    static final Path INSTALLED = Path.of("/etc/tandem/tandem.yaml");

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "configuration file (default: /etc/tandem/tandem.yaml when it exists)")
    Path file;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override one key, e.g. --set node.priority=50 (repeatable)")
    List<String> overrides = new ArrayList<>();

    Path effectiveFile() {
        if (file != null) return file;
        return Files.exists(INSTALLED) ? INSTALLED : null;
    }

    ConfigLoader.Resolved resolve() throws ConfigException {
        return ConfigLoader.resolve(effectiveFile(), overrides);
    }

    static int report(ConfigException e) {
        System.err.println("tandem: bad configuration:");
        e.problems().forEach(p -> System.err.println("  " + p));
        return TandemCli.BAD_USAGE;
    }
}
