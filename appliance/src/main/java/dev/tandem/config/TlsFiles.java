package dev.tandem.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** The PEM files of {@code http.tls}: checked when the configuration is read, and trusted by clients of the node (CLI, peers). */
public final class TlsFiles {
    private TlsFiles() {}

    /** What is wrong with the pair (and the CA bundle), or null when it looks usable. */
    static String check(Path cert, Path key, Path ca) {
        try {
            if (certificates(cert).isEmpty()) return cert + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
            if (ca != null && certificates(ca).isEmpty()) return ca + " holds no PEM certificate";
            String k = Files.readString(key, StandardCharsets.US_ASCII);
            if (!k.contains("-----BEGIN") || !k.contains("PRIVATE KEY-----")) {
                return key + " holds no PEM private key (-----BEGIN PRIVATE KEY-----); convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out " + key;
            }
            if (k.contains("ENCRYPTED")) return key + " is encrypted; tandem needs an unencrypted key file (mode 0640, owned by root:tandem)";
            return null;
        } catch (IOException | CertificateException e) {
            return "cannot read the TLS files: " + e.getMessage();
        }
    }

    static Collection<? extends Certificate> certificates(Path pem) throws IOException, CertificateException {
        try (InputStream in = Files.newInputStream(pem)) {
            return CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
    }

    /** An SSL context that trusts exactly the certificates in {@code pem} (a CA bundle, or a peer's self-signed certificate). */
    public static SSLContext trusting(Path pem) throws IOException {
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate c : certificates(pem)) ks.setCertificateEntry("tandem-" + i++, c);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot trust " + pem + ": " + e.getMessage(), e);
        }
    }
}
