package dev.optls.core.mysql;

import dev.optls.core.Capabilities;
import dev.optls.core.ClientOptions;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.SecurityLevel;
import dev.optls.core.Step;
import dev.optls.core.internal.BaseNegotiation;
import dev.optls.core.internal.NegotiationException;
import java.nio.ByteBuffer;

/**
 * The client side of a MySQL / MariaDB upgrade (protocols.md §11; MySQL protocol documentation,
 * Protocol::HandshakeV10 and Protocol::SSLRequest): read the greeting, send an SSLRequest when it
 * offers {@code CLIENT_SSL}, start TLS at once. The server sends nothing between the greeting and the
 * ClientHello, so every byte buffered after the greeting is response injection.
 *
 * <p>It ends in {@link Step.Completed} right after the handshake ({@link Result.Ending#UPGRADED}, with
 * {@code after} empty: MySQL has no capability re-query), {@link Step.Completed} with {@link
 * Result.Ending#PLAINTEXT} at level NONE, {@link Step.UpgradeUnavailable} at level MAY when the server
 * has no TLS, or {@link Step.Failed}. A required level fails by closing: nothing can be said to a MySQL
 * server before authenticating, not even {@code COM_QUIT}.
 *
 * <p>The application continues over TLS with the HandshakeResponse41 (sequence id 2), whose
 * authentication response is computed from the scramble of the plaintext greeting. That scramble and
 * the plugin name are in {@code result.before()} as {@code auth-plugin-data <hex>} and {@code
 * auth-plugin <name>} entries ({@link MysqlGreeting#authPluginData(Capabilities)}); the capability
 * flags the SSLRequest carried are {@link MysqlFlags#sslRequestFlags(long)} of the server's flags.
 *
 * <p>MITM note: this is the one place where optls hands plaintext knowledge across the TLS boundary,
 * because MySQL's design reuses it. A man-in-the-middle can rewrite the scramble, the plugin name and the
 * flags. It cannot read or alter what follows inside TLS (when the certificate is verified), so a
 * rewritten scramble only makes the login fail, and the server's own AuthSwitchRequest inside TLS
 * overrides a rewritten plugin name. Never base a security decision on the greeting: an application must
 * not pick a weaker plugin (e.g. {@code mysql_clear_password}) because the greeting named it, and must
 * treat the server version as unauthenticated.
 */
public final class MysqlClient extends BaseNegotiation {
    /** Protocol::SSLRequest: 16 MiB max packet, like libmysqlclient and openssl s_client. */
    private static final int MAX_PACKET_SIZE = 1 << 24;

    /** utf8mb4_general_ci, known to MySQL since 5.5.3 and to every MariaDB. */
    private static final int UTF8MB4_GENERAL_CI = 45;

    /** ER_CON_COUNT_ERROR "Too many connections" and ER_HOST_IS_BLOCKED: retrying later may help. */
    private static final int ER_CON_COUNT_ERROR = 1040;

    private static final int ER_HOST_IS_BLOCKED = 1129;

    private final ClientOptions options;
    private State state = new ExpectGreeting();

    /**
     * A client negotiation with these options.
     *
     * @throws IllegalArgumentException for implicit TLS, which MySQL does not have
     */
    public MysqlClient(ClientOptions options) {
        super(Protocol.MYSQL, options.limits());
        if (options.implicitTls()) {
            throw new IllegalArgumentException(
                    "MySQL has no implicit-TLS port: TLS always starts with an SSLRequest after the greeting");
        }
        this.options = options;
    }

    private sealed interface State {
        Phase phase();
    }

    /** Nothing received yet: the server speaks first with HandshakeV10 (sequence id 0). */
    private record ExpectGreeting() implements State {
        @Override
        public Phase phase() {
            return Phase.GREETING;
        }
    }

    /** SSLRequest sent; the TLS handshake runs. What the greeting said is kept for the result only. */
    private record AwaitHandshake(String serverVersion, Capabilities before) implements State {
        @Override
        public Phase phase() {
            return Phase.HANDSHAKE;
        }
    }

    private record Done(Phase phase) implements State {}

    @Override
    protected Phase phase() {
        return state.phase();
    }

    @Override
    protected boolean advance() {
        if (!(state instanceof ExpectGreeting)) {
            return false;
        }
        int length = MysqlPacket.announcedLength(in);
        if (length < 0) {
            return false;
        }
        int max = maxPayload();
        if (length > max) {
            // protocols.md §11.1: a greeting is under 100 bytes; refuse to buffer a huge "greeting".
            throw peerFailure(
                    FailureKind.LIMIT_EXCEEDED,
                    "the server announced a " + length + "-byte greeting packet (limit " + max + " bytes)");
        }
        MysqlPacket packet = MysqlPacket.take(in, length);
        if (packet == null) {
            return false;
        }
        state = onGreeting(packet);
        return true;
    }

    private int maxPayload() {
        return Math.min(MysqlPacket.MAX_NEGOTIATION_PAYLOAD, limits.maxBufferedBytes() - MysqlPacket.HEADER);
    }

    private State onGreeting(MysqlPacket packet) {
        if (packet.sequence() != 0) {
            throw peerFailure(
                    FailureKind.PROTOCOL_VIOLATION,
                    "the greeting has sequence id " + packet.sequence() + ", expected 0");
        }
        byte[] payload = packet.payload();
        if (payload.length > 0 && (payload[0] & 0xff) == 0xff) {
            // MySQL sends an ERR packet instead of the greeting when it refuses the connection
            // (1130 "Host ... is not allowed to connect", 1040 "Too many connections").
            MysqlPacket.Err err = parseErr(payload);
            boolean temporary = err.code() == ER_CON_COUNT_ERROR || err.code() == ER_HOST_IS_BLOCKED;
            throw new NegotiationException(Failure.peer(
                            FailureKind.SERVICE_UNAVAILABLE,
                            Phase.GREETING,
                            "the server refused the connection: " + abbreviate(err.toString()))
                    .withTemporary(temporary));
        }
        MysqlGreeting greeting;
        try {
            greeting = MysqlGreeting.parse(payload);
        } catch (MysqlPacket.Malformed | IllegalArgumentException e) {
            throw peerFailure(FailureKind.MALFORMED, "the greeting is not a HandshakeV10 packet: " + e.getMessage());
        }
        Capabilities before = greeting.toCapabilities();
        Result plaintext = new Result(
                Protocol.MYSQL,
                Result.Ending.PLAINTEXT,
                false,
                greeting.serverVersion(),
                before,
                Capabilities.NONE,
                none());
        observe(plaintext);
        boolean tls = greeting.offersTls();
        boolean protocol41 = (greeting.capabilities() & MysqlFlags.CLIENT_PROTOCOL_41) != 0;
        if (options.level() != SecurityLevel.NONE && tls && protocol41) {
            // Protocol::SSLRequest (sequence id 1), then TLS at once: the server answers nothing in
            // plaintext. Anything already buffered after the greeting came from someone else (response
            // injection, security.md §5 E.47 class): beginClientHandshake() fails on it.
            write(MysqlPacket.frame(1, sslRequest(greeting.capabilities())));
            beginClientHandshake();
            return new AwaitHandshake(greeting.serverVersion(), before);
        }
        if (in.size() > 0) {
            // The server must wait for the client's HandshakeResponse: nothing may follow the greeting.
            throw peerFailure(
                    FailureKind.PROTOCOL_VIOLATION,
                    in.size() + " byte(s) followed the greeting before the client said anything");
        }
        if (options.level() == SecurityLevel.NONE) {
            emit(new Step.Completed(plaintext));
            return new Done(Phase.GREETING);
        }
        // protocols.md §11.2: no CLIENT_SSL means no TLS; never send the SSLRequest then. A pre-4.1
        // server cannot take the 32-byte SSLRequest either.
        String detail = tls
                ? "the server offers CLIENT_SSL but not CLIENT_PROTOCOL_41 (a pre-4.1 server): optls cannot"
                        + " send it an SSLRequest"
                : "the server does not offer TLS (no CLIENT_SSL in its greeting)";
        if (options.level().requiresTls()) {
            // libmysqlclient CR 2026 "SSL is required but the server doesn't support it". No COM_QUIT is
            // possible before authentication: the adapter just closes the connection.
            failNow(Failure.policy(
                    FailureKind.STARTTLS_NOT_OFFERED,
                    Phase.GREETING,
                    detail + "; TLS is required at level " + options.level()
                            + ", so the connection is closed (lower the level to MAY to allow plaintext)"));
            return new Done(Phase.GREETING);
        }
        emit(new Step.UpgradeUnavailable(
                Failure.peer(FailureKind.STARTTLS_NOT_OFFERED, Phase.GREETING, detail), plaintext));
        return new Done(Phase.GREETING);
    }

    private MysqlPacket.Err parseErr(byte[] payload) {
        try {
            return MysqlPacket.Err.parse(payload);
        } catch (MysqlPacket.Malformed e) {
            throw peerFailure(FailureKind.MALFORMED, "the server sent a truncated ERR packet as its greeting");
        }
    }

    /**
     * Protocol::SSLRequest payload, 32 bytes: client flags (4 LE), max packet size (4 LE), character set
     * (1), 23 zero bytes (MariaDB reads the last 4 as extended capabilities when {@code CLIENT_MYSQL} is
     * clear: none are requested).
     */
    static byte[] sslRequest(long serverCapabilities) {
        int flags = MysqlFlags.sslRequestFlags(serverCapabilities);
        byte[] p = new byte[32];
        for (int k = 0; k < 4; k++) {
            p[k] = (byte) (flags >> (8 * k));
            p[4 + k] = (byte) (MAX_PACKET_SIZE >> (8 * k));
        }
        p[8] = (byte) UTF8MB4_GENERAL_CI;
        return p;
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake s)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        state = new Done(Phase.HANDSHAKE);
        // No capability re-query exists: the connection now belongs to the application, which sends the
        // HandshakeResponse41 with sequence id 2. Nothing of the greeting is used by this negotiation.
        emit(new Step.Completed(new Result(
                Protocol.MYSQL,
                Result.Ending.UPGRADED,
                true,
                s.serverVersion(),
                s.before(),
                Capabilities.NONE,
                none())));
    }

    private static ByteBuffer none() {
        return ByteBuffer.allocate(0);
    }

    static String abbreviate(String text) {
        String printable = text.codePoints()
                .map(c -> c < 0x20 || c == 0x7f ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
        return '"' + (printable.length() > 200 ? printable.substring(0, 200) + "..." : printable) + '"';
    }
}
