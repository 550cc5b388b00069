package dev.optls.interop.peers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Runs {@code openssl s_client -brief} against a peer, with or without {@code -starttls}. */
public final class OpenSsl {

    private OpenSsl() {}

    /**
     * Connects with {@code openssl s_client -brief}, using {@code -starttls <starttls>} unless it is null
     * (implicit TLS), closes its input at once (so it disconnects after the handshake) and returns the
     * merged output.
     *
     * @param starttls {@code smtp}, {@code imap}, {@code pop3}..., or null for implicit TLS
     */
    public static Peers.CommandResult sClient(String starttls, String host, int port) {
        Peers.requireCommand("openssl");
        List<String> command = new ArrayList<>(List.of("openssl", "s_client"));
        if (starttls != null) {
            command.addAll(List.of("-starttls", starttls));
        }
        command.addAll(List.of("-connect", host + ":" + port, "-servername", "localhost", "-brief"));
        return Peers.run(Duration.ofSeconds(20), "", command);
    }

    /** The installed OpenSSL version line ({@code openssl version}). */
    public static String version() {
        Peers.requireCommand("openssl");
        return Peers.run(Duration.ofSeconds(10), "openssl", "version")
                .orThrow()
                .output()
                .trim();
    }
}
