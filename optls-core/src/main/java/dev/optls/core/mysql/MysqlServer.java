package dev.optls.core.mysql;

import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.HandshakeSummary;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.core.internal.BaseNegotiation;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * The server side of a MySQL / MariaDB upgrade (protocols.md §11): it sends the HandshakeV10 greeting
 * (with {@code CLIENT_SSL} only while TLS is available and not active), starts TLS on a 32-byte
 * SSLRequest, and delivers a HandshakeResponse41 to the application as a {@link Command} with verb
 * {@code AUTH} and the user name as {@link Command#line()} and {@link Command#arguments()}.
 *
 * <p>MySQL replies are binary packets, so the application answers a delivered {@code AUTH} only with
 * {@link #handOver()}: {@link Result#remaining()} then starts with the HandshakeResponse41 packet as
 * received, and the application writes its OK / ERR / AuthSwitchRequest packet (sequence id one above
 * the response's) itself. {@link #respond(String)} throws.
 *
 * <p>After {@link Step.BeginHandshake} and the handshake it completes with {@link
 * Result.Ending#UPGRADED}; the application continues with a new {@code MysqlServer} built from {@link
 * ServerOptions#afterUpgrade()}, which sends no second greeting and expects the HandshakeResponse41 with
 * sequence id 2. While {@link ServerOptions#tlsRequired()} holds, a HandshakeResponse41 in plaintext is
 * refused with ERR 3159 (as MySQL with {@code require_secure_transport=ON}) and never delivered.
 *
 * <p>Options: {@link ServerOptions#greeting()} is the server version string (make it look like one,
 * e.g. {@code 8.0.0-optls}: clients parse it); capability flag names in {@link
 * ServerOptions#advertised()} ({@code CLIENT_MULTI_STATEMENTS}...) are added to the base flags; an
 * {@code auth-plugin <name>} entry sets the plugin (default {@code mysql_native_password}); an {@code
 * auth-plugin-data <hex>} entry fixes the scramble. An application that checks passwords must fix the
 * scramble that way (fresh per connection) or read it from {@code before()} of the {@code UPGRADED}
 * result: the server built by {@code afterUpgrade()} cannot know a scramble chosen at random by the
 * plaintext one.
 *
 * <p>A {@code handshake-v10 <hex>} entry ({@link #greetingEntry(MysqlGreeting)}) replaces all of that: the
 * server greets with that payload as it is (server version, connection id, flags, character set, status,
 * scramble and plugin), only {@code CLIENT_SSL} set or cleared as above. A gateway in front of a
 * plaintext MySQL server greets this way with the backend's own greeting, so that the client's
 * HandshakeResponse41 answers the backend's scramble.
 */
public final class MysqlServer extends BaseNegotiation {
    /** Flags every greeting carries: 4.1 protocol and authentication, plugins, transactions. */
    private static final long BASE_FLAGS = MysqlFlags.CLIENT_LONG_PASSWORD
            | MysqlFlags.CLIENT_CONNECT_WITH_DB
            | MysqlFlags.CLIENT_PROTOCOL_41
            | MysqlFlags.CLIENT_TRANSACTIONS
            | MysqlFlags.CLIENT_SECURE_CONNECTION
            | MysqlFlags.CLIENT_PLUGIN_AUTH;

    private static final int SERVER_STATUS_AUTOCOMMIT = 0x0002;
    private static final int UTF8MB4_GENERAL_CI = 45;
    private static final int SCRAMBLE_LENGTH = 20;

    /** MySQL/MariaDB error numbers and SQLSTATEs used here (mysqld_error.h). */
    private static final int ER_HANDSHAKE_ERROR = 1043;

    private static final int ER_NET_PACKET_TOO_LARGE = 1153;
    private static final int ER_NET_PACKETS_OUT_OF_ORDER = 1156;
    private static final int ER_SECURE_TRANSPORT_REQUIRED = 3159;

    private final ServerOptions options;
    private final MysqlGreeting greeting;
    private State state;

    /**
     * A server negotiation; writes the greeting at once when {@link ServerOptions#greet()}. Without an
     * {@code auth-plugin-data} entry in the options the scramble comes from the JDK's {@code
     * SecureRandom}, looked up by name through {@link RandomGenerator#of(String)} so that the core
     * depends on {@code java.util} only.
     */
    public MysqlServer(ServerOptions options) {
        this(options, RandomGenerator.of("SecureRandom"));
    }

    /**
     * A server negotiation whose connection id and (unless fixed by the options) scramble come from
     * {@code random}, which must be a cryptographically strong generator outside tests.
     */
    public MysqlServer(ServerOptions options, RandomGenerator random) {
        super(Protocol.MYSQL, options.limits());
        this.options = options;
        this.greeting = greeting(options, random);
        if (options.greet()) {
            // Protocol::HandshakeV10: the server speaks first, sequence id 0.
            write(MysqlPacket.frame(0, greeting.encode()));
            state = new ExpectClientPacket(1);
        } else {
            // Continuing after the upgrade: greeting (0) and SSLRequest (1) were exchanged in plaintext,
            // the HandshakeResponse41 comes inside TLS with sequence id 2 (protocols.md §11.1).
            state = new ExpectClientPacket(2);
        }
    }

    private static MysqlGreeting greeting(ServerOptions options, RandomGenerator random) {
        Optional<MysqlGreeting> given = MysqlGreeting.handshakeV10(options.plaintextCapabilities());
        if (given.isPresent()) {
            // Another server's greeting (a gateway's backend): only the dialect's CLIENT_SSL rule applies.
            long flags = given.get().capabilities() & ~MysqlFlags.CLIENT_SSL;
            return given.get().withCapabilities(options.upgradeOffered() ? flags | MysqlFlags.CLIENT_SSL : flags);
        }
        Capabilities advertised = options.advertised();
        long flags = BASE_FLAGS;
        for (String entry : advertised.entries()) {
            flags |= MysqlFlags.flag(Capabilities.keywordOf(entry));
        }
        // The dialect alone decides about CLIENT_SSL: only while TLS is available and not yet active.
        flags &= ~MysqlFlags.CLIENT_SSL;
        if (options.upgradeOffered()) {
            flags |= MysqlFlags.CLIENT_SSL;
        }
        byte[] scramble =
                MysqlGreeting.authPluginData(options.plaintextCapabilities()).orElseGet(() -> scramble(random));
        String plugin =
                MysqlGreeting.authPluginName(options.plaintextCapabilities()).orElse("mysql_native_password");
        long connectionId = random.nextInt(1, Integer.MAX_VALUE);
        return new MysqlGreeting(
                options.greeting(),
                connectionId,
                flags,
                UTF8MB4_GENERAL_CI,
                SERVER_STATUS_AUTOCOMMIT,
                scramble,
                plugin);
    }

    /** 20 printable bytes, as MariaDB's scramble (no NUL, which would end the field early). */
    private static byte[] scramble(RandomGenerator random) {
        byte[] s = new byte[SCRAMBLE_LENGTH];
        for (int i = 0; i < s.length; i++) {
            s[i] = (byte) random.nextInt(0x21, 0x7f);
        }
        return s;
    }

    private sealed interface State {}

    /** Waiting for the client's next packet, which must carry {@code sequence}. */
    private record ExpectClientPacket(int sequence) implements State {}

    private record AwaitHandshake() implements State {}

    /** A HandshakeResponse41 was delivered; only a hand-over can answer it. */
    private record AwaitAnswer(Command command) implements State {}

    private record Done() implements State {}

    /** The greeting this negotiation sent (or would have sent): scramble, flags, plugin. */
    public MysqlGreeting greeting() {
        return greeting;
    }

    @Override
    protected Phase phase() {
        if (state instanceof AwaitHandshake) {
            return Phase.HANDSHAKE;
        }
        return options.tlsActive() ? Phase.SESSION : Phase.UPGRADE;
    }

    @Override
    protected boolean advance() {
        if (!(state instanceof ExpectClientPacket expect)) {
            return false;
        }
        int length = MysqlPacket.announcedLength(in);
        if (length < 0) {
            return false;
        }
        int max = Math.min(MysqlPacket.MAX_NEGOTIATION_PAYLOAD, limits.maxBufferedBytes() - MysqlPacket.HEADER);
        if (length > max) {
            return refuse(
                    (in.get(3) & 0xff) + 1,
                    ER_NET_PACKET_TOO_LARGE,
                    "08S01",
                    "Got a packet bigger than 'max_allowed_packet' bytes",
                    Failure.peer(
                            FailureKind.LIMIT_EXCEEDED,
                            phase(),
                            "the client announced a " + length + "-byte packet during the handshake (limit " + max
                                    + " bytes)"));
        }
        MysqlPacket packet = MysqlPacket.take(in, length);
        if (packet == null) {
            return false;
        }
        int reply = packet.sequence() + 1;
        if (packet.sequence() != expect.sequence()) {
            return refuse(
                    reply,
                    ER_NET_PACKETS_OUT_OF_ORDER,
                    "08S01",
                    "Got packets out of order",
                    Failure.peer(
                            FailureKind.PROTOCOL_VIOLATION,
                            phase(),
                            "the client's packet has sequence id " + packet.sequence() + ", expected "
                                    + expect.sequence()));
        }
        byte[] payload = packet.payload();
        if (payload.length < 32) {
            // Both Protocol::SSLRequest and HandshakeResponse41 start with 32 fixed bytes.
            return badHandshake(
                    reply,
                    FailureKind.MALFORMED,
                    "the client's first packet has " + payload.length + " bytes, fewer than 32");
        }
        long flags = new MysqlPacket.Cursor(payload).u32();
        if ((flags & MysqlFlags.CLIENT_PROTOCOL_41) == 0) {
            return badHandshake(
                    reply,
                    FailureKind.MALFORMED,
                    "the client speaks the pre-4.1 protocol (no CLIENT_PROTOCOL_41), which optls does not");
        }
        boolean ssl = (flags & MysqlFlags.CLIENT_SSL) != 0;
        if (ssl && payload.length == 32) {
            return sslRequest(reply);
        }
        if (ssl && !options.tlsActive()) {
            // MariaDB would start TLS here and ignore the rest; optls is strict (protocols.md §11.2): an
            // SSLRequest is exactly 32 bytes, and a longer packet claiming TLS carries credentials in clear.
            return badHandshake(
                    reply,
                    FailureKind.PROTOCOL_VIOLATION,
                    "the client sent a " + payload.length + "-byte HandshakeResponse with CLIENT_SSL in plaintext"
                            + " instead of the 32-byte SSLRequest");
        }
        return handshakeResponse(packet, reply);
    }

    private boolean sslRequest(int reply) {
        if (!options.upgradeOffered()) {
            return badHandshake(
                    reply,
                    FailureKind.PROTOCOL_VIOLATION,
                    options.tlsActive()
                            ? "the client sent an SSLRequest over TLS"
                            : "the client sent an SSLRequest, but this server has no TLS (no CLIENT_SSL offered)");
        }
        state = new AwaitHandshake();
        // Protocol::SSLRequest: no reply, TLS starts at once. CVE-2011-0411 class: every byte after the
        // 32-byte packet (e.g. a pipelined HandshakeResponse41) goes to TLS unparsed, never answered.
        beginServerHandshake("");
        return true;
    }

    private boolean handshakeResponse(MysqlPacket packet, int reply) {
        if (options.tlsRequired() && !options.tlsActive()) {
            // protocols.md §11.2: as MySQL with require_secure_transport=ON. No credential is looked at.
            return refuse(
                    reply,
                    ER_SECURE_TRANSPORT_REQUIRED,
                    "HY000",
                    "Connections using insecure transport are prohibited while --require_secure_transport=ON.",
                    Failure.policy(
                            FailureKind.PROTOCOL_VIOLATION,
                            Phase.UPGRADE,
                            "the client sent its HandshakeResponse in plaintext, but TLS is required; refused with"
                                    + " ERR 3159 and closed"));
        }
        String user;
        try {
            MysqlPacket.Cursor c = new MysqlPacket.Cursor(packet.payload());
            c.bytes(32); // client flags, max packet size, character set, 23 reserved bytes
            user = c.nulString("user name");
        } catch (MysqlPacket.Malformed e) {
            return badHandshake(
                    reply, FailureKind.MALFORMED, "the HandshakeResponse41 is malformed: " + e.getMessage());
        }
        Command command = new Command("", "AUTH", user, user, options.tlsActive());
        state = new AwaitAnswer(command);
        deliver(command, packet.raw());
        return true;
    }

    private boolean badHandshake(int reply, FailureKind kind, String detail) {
        return refuse(reply, ER_HANDSHAKE_ERROR, "08S01", "Bad handshake", Failure.peer(kind, phase(), detail));
    }

    /** Writes an ERR packet and fails: MySQL closes the connection after a handshake error. */
    private boolean refuse(int sequence, int code, String sqlState, String message, Failure failure) {
        write(MysqlPacket.err(sequence & 0xff, code, sqlState, message));
        state = new Done();
        failNow(failure);
        return true;
    }

    @Override
    protected void onResponded(String reply) {
        throw new IllegalStateException("MySQL replies are binary packets: call handOver() and write the OK, ERR"
                + " or AuthSwitchRequest packet (sequence id 3 after TLS, 2 in plaintext) yourself");
    }

    @Override
    protected Result handOverResult(Command command, ByteBuffer remaining) {
        state = new Done();
        return result(Result.Ending.HANDED_OVER, options.tlsActive(), remaining);
    }

    @Override
    protected void onHandshakeCompleted(HandshakeSummary summary) {
        if (!(state instanceof AwaitHandshake)) {
            throw new IllegalStateException("handshakeCompleted() outside the handshake");
        }
        state = new Done();
        // The HandshakeResponse41 (sequence id 2) follows inside TLS; a new MysqlServer from
        // options.afterUpgrade() reads it. No second greeting: the plaintext one stays in force.
        emit(new Step.Completed(result(Result.Ending.UPGRADED, true, ByteBuffer.allocate(0))));
    }

    private Result result(Result.Ending ending, boolean tls, ByteBuffer remaining) {
        Capabilities sent = options.greet() ? greeting.toCapabilities() : Capabilities.NONE;
        return new Result(
                Protocol.MYSQL,
                ending,
                tls,
                options.greeting(),
                options.tlsActive() ? Capabilities.NONE : sent,
                options.tlsActive() ? sent : Capabilities.NONE,
                remaining);
    }

    /**
     * A {@code handshake-v10 <hex>} entry for {@link ServerOptions#plaintextCapabilities()}: the server
     * greets with {@code greeting} (its {@code CLIENT_SSL} flag set only while the upgrade is offered).
     */
    public static String greetingEntry(MysqlGreeting greeting) {
        return MysqlGreeting.HANDSHAKE_V10 + " " + HexFormat.of().formatHex(greeting.encode());
    }

    /** The scramble as an {@code auth-plugin-data} entry for {@link ServerOptions} capabilities. */
    public static String authPluginDataEntry(byte[] scramble) {
        return MysqlGreeting.AUTH_PLUGIN_DATA + " " + HexFormat.of().formatHex(scramble);
    }
}
