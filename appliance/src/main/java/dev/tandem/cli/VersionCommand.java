package dev.tandem.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "version", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class, description = "Print tandem's version.")
final class VersionCommand implements Callable<Integer> {
    static String version() {
        String v = TandemCli.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    @Override
    public Integer call() {
        System.out.println("tandem " + version() + " (Java " + Runtime.version() + ")");
        return TandemCli.OK;
    }

    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"tandem " + version()};
        }
    }
}
