package dev.optls.netty;

import dev.optls.tls.TlsConfigException;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Session ticket keys shared by several servers (a cluster behind a load balancer resumes sessions on any
 * member). File format: one key per line, base64 of 48 random bytes (16 name, 16 HMAC, 16 AES); the first
 * line encrypts new tickets, every line decrypts; {@code #} starts a comment. Make one with {@code head -c 48
 * /dev/urandom | base64}; rotate by adding a new first line and dropping the last one later.
 */
public final class TicketKeys {
    private static final int KEY_BYTES = OpenSslSessionTicketKey.TICKET_KEY_SIZE;
    private static final int MAX_KEYS = 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final List<OpenSslSessionTicketKey> keys;

    private TicketKeys(List<OpenSslSessionTicketKey> keys) {
        this.keys = List.copyOf(keys);
    }

    /**
     * Reads a key file.
     *
     * @throws TlsConfigException if the file cannot be read or a line is not a 48-byte base64 key
     */
    public static TicketKeys read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new TlsConfigException("cannot read the ticket key file " + file + ": " + e.getMessage(), e);
        }
        List<OpenSslSessionTicketKey> keys = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            byte[] raw;
            try {
                raw = Base64.getDecoder().decode(line);
            } catch (IllegalArgumentException e) {
                raw = new byte[0];
            }
            if (raw.length != KEY_BYTES) {
                throw new TlsConfigException(file + " line " + (i + 1) + ": not a ticket key (base64 of " + KEY_BYTES
                        + " bytes); make one with: head -c " + KEY_BYTES + " /dev/urandom | base64");
            }
            keys.add(key(raw));
        }
        if (keys.isEmpty() || keys.size() > MAX_KEYS) {
            throw new TlsConfigException(
                    file + ": holds " + keys.size() + " ticket keys; give 1 to " + MAX_KEYS + " (the first encrypts)");
        }
        return new TicketKeys(keys);
    }

    /** One fresh random key (for a single instance that still wants to control rotation). */
    public static TicketKeys generate() {
        byte[] raw = new byte[KEY_BYTES];
        RANDOM.nextBytes(raw);
        return new TicketKeys(List.of(key(raw)));
    }

    /** The keys, the encrypting one first. */
    public OpenSslSessionTicketKey[] keys() {
        return keys.toArray(new OpenSslSessionTicketKey[0]);
    }

    /** How many keys there are. */
    public int size() {
        return keys.size();
    }

    private static OpenSslSessionTicketKey key(byte[] raw) {
        int n = OpenSslSessionTicketKey.NAME_SIZE;
        int h = OpenSslSessionTicketKey.HMAC_KEY_SIZE;
        return new OpenSslSessionTicketKey(
                Arrays.copyOfRange(raw, 0, n),
                Arrays.copyOfRange(raw, n, n + h),
                Arrays.copyOfRange(raw, n + h, raw.length));
    }

    @Override
    public String toString() {
        return "TicketKeys[" + keys.size() + "]";
    }
}
