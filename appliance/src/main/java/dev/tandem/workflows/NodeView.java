package dev.tandem.workflows;

/** What a workflow may learn about its node and group, as JSON texts (see tandem.ha). */
public interface NodeView {
    String nodeStateJson();

    String groupStateJson();
}
