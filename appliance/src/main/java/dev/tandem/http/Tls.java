package dev.tandem.http;

import dev.tandem.config.TandemConfig;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;

/**
 * HTTPS on the node's port when {@code http.tls.cert} and {@code key} are set (SPEC 5), and for the
 * calls a node makes to its peers (forwarding to the primary): those trust {@code http.tls.ca}, or the
 * node's own certificate when the group shares one, and check that the certificate names the host.
 */
public final class Tls {
    private Tls() {}

    static void configure(HttpServerOptions options, TandemConfig.Http http) {
        if (!http.tls()) return;
        options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions().setCertPath(http.tlsCert().toString()).setKeyPath(http.tlsKey().toString()));
    }

    static HttpClientOptions client(HttpClientOptions options, TandemConfig.Http http) {
        if (http.tls()) {
            options.setTrustOptions(new PemTrustOptions().addCertPath(http.trustedCerts().toString())).setVerifyHost(true);
        }
        return options;
    }

    /** The scheme of this node's own URLs. */
    public static String scheme(TandemConfig.Http http) {
        return http.tls() ? "https" : "http";
    }
}
