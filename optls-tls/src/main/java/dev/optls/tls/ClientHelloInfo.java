package dev.optls.tls;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What a server needs from a ClientHello before it picks its certificate and engine: the SNI host name
 * (RFC 6066 §3) and the ALPN protocol list (RFC 7301 §3.1). Parsing is bounded by the message itself and
 * never throws for malformed input: it says so instead.
 *
 * @param serverName the host_name entry of server_name, lower-cased, if present
 * @param alpn the offered ALPN protocol ids in client order (empty when the extension is absent)
 * @param wellFormed whether the ClientHello parsed; a malformed one is left to the TLS engine to refuse
 */
public record ClientHelloInfo(Optional<String> serverName, List<String> alpn, boolean wellFormed) {
    private static final int SERVER_NAME = 0;
    private static final int APPLICATION_LAYER_PROTOCOL_NEGOTIATION = 16;

    public ClientHelloInfo {
        alpn = List.copyOf(alpn);
    }

    /**
     * Parses a ClientHello body: the handshake message without its 4-byte header, starting at {@code
     * legacy_version} (RFC 8446 §4.1.2). Consumes nothing from the caller's view of {@code body}.
     */
    public static ClientHelloInfo parse(ByteBuffer body) {
        ByteBuffer in = body.slice();
        try {
            skip(in, 2 + 32); // legacy_version, random
            skip(in, u8(in)); // legacy_session_id
            skip(in, u16(in)); // cipher_suites
            skip(in, u8(in)); // legacy_compression_methods
            if (!in.hasRemaining()) {
                return new ClientHelloInfo(Optional.empty(), List.of(), true); // no extensions (TLS 1.2 allows it)
            }
            ByteBuffer extensions = sub(in, u16(in));
            Optional<String> sni = Optional.empty();
            List<String> alpn = List.of();
            while (extensions.hasRemaining()) {
                int type = u16(extensions);
                ByteBuffer data = sub(extensions, u16(extensions));
                if (type == SERVER_NAME) {
                    sni = serverName(data);
                } else if (type == APPLICATION_LAYER_PROTOCOL_NEGOTIATION) {
                    alpn = protocols(data);
                }
            }
            return new ClientHelloInfo(sni, alpn, true);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            return new ClientHelloInfo(Optional.empty(), List.of(), false);
        }
    }

    /** RFC 6066 §3: a ServerNameList; the host_name (type 0) entry is the one that counts. */
    private static Optional<String> serverName(ByteBuffer data) {
        ByteBuffer list = sub(data, u16(data));
        while (list.hasRemaining()) {
            int nameType = u8(list);
            byte[] name = bytes(list, u16(list));
            if (nameType == 0) {
                return Optional.of(new String(name, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT));
            }
        }
        return Optional.empty();
    }

    /** RFC 7301 §3.1: ProtocolNameList, each name 1..255 bytes. */
    private static List<String> protocols(ByteBuffer data) {
        ByteBuffer list = sub(data, u16(data));
        List<String> ids = new ArrayList<>();
        while (list.hasRemaining()) {
            int length = u8(list);
            if (length == 0) {
                throw new IllegalArgumentException("empty ALPN protocol name");
            }
            ids.add(new String(bytes(list, length), StandardCharsets.ISO_8859_1));
        }
        return ids;
    }

    private static int u8(ByteBuffer in) {
        return in.get() & 0xff;
    }

    private static int u16(ByteBuffer in) {
        return in.getShort() & 0xffff;
    }

    private static void skip(ByteBuffer in, int n) {
        if (n > in.remaining()) {
            throw new BufferUnderflowException();
        }
        in.position(in.position() + n);
    }

    private static ByteBuffer sub(ByteBuffer in, int n) {
        if (n > in.remaining()) {
            throw new BufferUnderflowException();
        }
        ByteBuffer part = in.slice();
        part.limit(n);
        in.position(in.position() + n);
        return part;
    }

    private static byte[] bytes(ByteBuffer in, int n) {
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }
}
