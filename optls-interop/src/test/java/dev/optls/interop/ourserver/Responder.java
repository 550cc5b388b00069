package dev.optls.interop.ourserver;

import dev.optls.core.Capabilities;
import dev.optls.core.Command;
import dev.optls.core.Protocol;
import dev.optls.core.Result;
import dev.optls.core.ServerOptions;
import dev.optls.interop.peers.Peers;
import dev.optls.testkit.Credential;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsProfile;
import dev.optls.tls.blocking.CommandHandler;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.blocking.StartTlsServer;
import dev.optls.tls.blocking.Timeouts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocket;

/**
 * OUR server under test: an optls {@link StartTlsServer} on 127.0.0.1 (ephemeral port) with a tiny mail
 * application behind it, so that real clients can run a whole session against it.
 *
 * <p>The application records, per connection, every command the negotiation delivered to it (with {@link
 * Command#tlsActive()}) and what it received: SMTP/LMTP accept {@code MAIL}/{@code RCPT} and take the
 * connection over at {@code DATA} ({@link CommandHandler#HAND_OVER}) to receive the message; IMAP knows
 * {@code LOGIN}, {@code SELECT}, {@code LIST}, {@code NOOP}; POP3 knows {@code USER}/{@code PASS} and a
 * maildrop of one message. The user is {@value #USER} / {@value #PASSWORD}.
 */
final class Responder implements AutoCloseable {

    /** How the server treats TLS. */
    enum Tls {
        /** Offers STARTTLS/STLS; plaintext is allowed too. */
        OFFERED,
        /** Offers STARTTLS and refuses mail transactions and logins before it ({@code withTlsRequired(true)}). */
        REQUIRED,
        /** No certificate: never offers the upgrade. */
        NONE
    }

    /** The only user of the IMAP and POP3 responders. */
    static final String USER = "optls";

    /** {@link #USER}'s password. */
    static final String PASSWORD = "secret";

    /** The name the server greets with and its certificate is issued for. */
    static final String HOSTNAME = "localhost";

    /** The one message in the POP3 maildrop. */
    static final String MAILDROP_MESSAGE =
            "From: a@example.org\r\nTo: optls@example.org\r\nSubject: optls maildrop\r\n\r\nHello from optls.\r\n";

    private static final int MAX_LINE = 4096;
    private static final int MAX_MESSAGE = 1 << 20;

    /** A message received by the SMTP/LMTP application after {@code DATA}. */
    record Message(String from, List<String> recipients, String content, boolean tlsActive) {}

    /**
     * What happened on one connection.
     *
     * @param commands every command the application saw, in order (after a hand-over, the commands it read
     *     itself, with {@code tlsActive} telling whether the socket was a TLS socket)
     * @param messages messages received (SMTP/LMTP)
     * @param tlsEstablished whether a TLS handshake completed
     * @param ending how the session ended, if it ended well
     * @param failure why it ended badly, if it did
     */
    record Connection(
            List<Command> commands,
            List<Message> messages,
            boolean tlsEstablished,
            Optional<Result.Ending> ending,
            Optional<String> failure) {

        /** The verbs of {@link #commands()}, in order. */
        List<String> verbs() {
            return commands.stream().map(Command::verb).toList();
        }

        /** The commands with verb {@code verb}. */
        List<Command> named(String verb) {
            return commands.stream().filter(c -> c.verb().equals(verb)).toList();
        }
    }

    private final Protocol protocol;
    private final Tls tls;
    private final StartTlsServer server;
    private final ServerSocket listener;
    private final ExecutorService pool;
    private final List<Connection> finished = new ArrayList<>();

    private Responder(Protocol protocol, Tls tls, Credential credential) throws IOException {
        this.protocol = protocol;
        this.tls = tls;
        Optional<ServerTls> serverTls = tls == Tls.NONE
                ? Optional.empty()
                : Optional.of(ServerTls.create(
                        credential.chain(), credential.privateKey(), protocol.alpn(), TlsProfile.modern()));
        this.server = new StartTlsServer(
                protocol,
                options(protocol, tls),
                serverTls,
                new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(10)));
        this.listener = new ServerSocket(0, 50, InetAddress.getByName(Peers.LOOPBACK));
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "optls-responder-" + protocol.name().toLowerCase(Locale.ROOT));
            t.setDaemon(true);
            return t;
        });
        pool.execute(this::acceptLoop);
    }

    /** Starts a responder for {@code protocol}; {@code credential} is the server certificate (unused for NONE). */
    static Responder start(Protocol protocol, Tls tls, Credential credential) {
        try {
            return new Responder(protocol, tls, credential);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the " + protocol + " responder on " + Peers.LOOPBACK, e);
        }
    }

    /** What the server advertises: minimal, and the same before and after TLS (the dialect adds STARTTLS). */
    static ServerOptions options(Protocol protocol, Tls tls) {
        Capabilities caps = switch (protocol) {
            case IMAP -> Capabilities.of("IMAP4rev1");
            // RFC 2449 §6.8: USER says USER/PASS works (curl logs in only when it is listed).
            case POP3 -> Capabilities.of("USER", "UIDL", "RESP-CODES");
            default -> Capabilities.of("PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES");
        };
        return switch (tls) {
            case NONE -> ServerOptions.withoutTls(HOSTNAME, caps);
            case OFFERED -> ServerOptions.offering(HOSTNAME, caps);
            case REQUIRED -> ServerOptions.offering(HOSTNAME, caps).withTlsRequired(true);
        };
    }

    /** The address to connect to: always {@value Peers#LOOPBACK}. */
    String host() {
        return Peers.LOOPBACK;
    }

    /** The listening port. */
    int port() {
        return listener.getLocalPort();
    }

    /** Forgets the connections recorded so far (call before each test). */
    synchronized void reset() {
        finished.clear();
    }

    /** The connections finished since the last {@link #reset()}. */
    synchronized List<Connection> connections() {
        return List.copyOf(finished);
    }

    /**
     * Waits until {@code count} connections have finished since the last {@link #reset()} and returns them.
     *
     * @throws AssertionError if they do not within {@code timeout}
     */
    synchronized List<Connection> awaitConnections(int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (finished.size() < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("the " + protocol + " responder saw " + finished.size()
                        + " finished connections within " + timeout + ", expected " + count + ": " + finished);
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
        return List.copyOf(finished);
    }

    /** Waits for exactly one connection since the last {@link #reset()} and returns it. */
    Connection awaitOne() {
        List<Connection> all = awaitConnections(1, Duration.ofSeconds(10));
        if (all.size() != 1) {
            throw new AssertionError("expected one connection to the " + protocol + " responder, saw " + all);
        }
        return all.get(0);
    }

    private synchronized void record(Connection connection) {
        finished.add(connection);
        notifyAll();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket accepted;
            try {
                accepted = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            pool.execute(() -> record(new App().run(accepted)));
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            // Shutting down.
        }
        pool.shutdownNow();
    }

    @Override
    public String toString() {
        return "Responder[" + protocol + ", " + tls + ", " + host() + ":" + port() + "]";
    }

    /** The application behind one connection. */
    private final class App {
        private final List<Command> commands = new ArrayList<>();
        private final List<Message> messages = new ArrayList<>();
        private boolean sawTls;
        // SMTP transaction.
        private String from;
        private final List<String> recipients = new ArrayList<>();
        // IMAP / POP3 login.
        private String user;
        private boolean loggedIn;

        Connection run(Socket accepted) {
            ServerSession session = server.serve(accepted, this::handle);
            Optional<Result.Ending> ending = session.result().map(Result::ending);
            Optional<String> failure = session.failure().map(Object::toString);
            if (ending.equals(Optional.of(Result.Ending.HANDED_OVER))
                    && session.socket().isPresent()) {
                try {
                    ending = Optional.of(takeOver(
                            session.socket().get(), session.result().get().remaining()));
                } catch (IOException | RuntimeException e) {
                    ending = Optional.empty();
                    failure = Optional.of("after the hand-over: " + e);
                }
            }
            try {
                session.close();
            } catch (IOException e) {
                // The client is gone already.
            }
            return new Connection(
                    List.copyOf(commands), List.copyOf(messages), session.tls().isPresent(), ending, failure);
        }

        /** The {@link CommandHandler}: records the command, then answers it. */
        String handle(Command c) {
            commands.add(c);
            if (c.tlsActive() && !sawTls) {
                // RFC 3207 §4.2, RFC 2595 §3.1: nothing learned before TLS carries over.
                sawTls = true;
                from = null;
                recipients.clear();
                user = null;
                loggedIn = false;
            }
            return switch (protocol) {
                case IMAP -> imap(c);
                case POP3 -> pop3(c);
                default -> smtp(c);
            };
        }

        private String smtp(Command c) {
            return switch (c.verb()) {
                case "MAIL" -> {
                    if (from != null) {
                        yield "503 5.5.1 Error: nested MAIL command";
                    }
                    from = address(c.arguments());
                    yield "250 2.1.0 Ok";
                }
                case "RCPT" -> {
                    if (from == null) {
                        yield "503 5.5.1 Error: need MAIL command";
                    }
                    recipients.add(address(c.arguments()));
                    yield "250 2.1.5 Ok";
                }
                // The 354 exchange is not the negotiation's: take the connection over (CommandHandler).
                case "DATA" -> recipients.isEmpty() ? "503 5.5.1 Error: need RCPT command" : CommandHandler.HAND_OVER;
                case "RSET" -> {
                    from = null;
                    recipients.clear();
                    yield "250 2.0.0 Ok";
                }
                case "NOOP" -> "250 2.0.0 Ok";
                default -> "502 5.5.2 Error: " + c.verb() + " is not part of the optls responder";
            };
        }

        private String imap(Command c) {
            String tag = c.tag();
            return switch (c.verb()) {
                case "LOGIN" -> {
                    List<String> args = imapStrings(c.arguments());
                    if (args.equals(List.of(USER, PASSWORD))) {
                        loggedIn = true;
                        yield tag + " OK LOGIN completed";
                    }
                    yield tag + " NO [AUTHENTICATIONFAILED] Invalid credentials";
                }
                case "SELECT", "EXAMINE" ->
                    loggedIn
                            ? "* FLAGS (\\Seen \\Deleted)\r\n* 0 EXISTS\r\n* 0 RECENT\r\n"
                                    + "* OK [UIDVALIDITY 1] UIDs valid\r\n* OK [UIDNEXT 1] Predicted next UID\r\n"
                                    + tag + " OK [READ-WRITE] " + c.verb() + " completed"
                            : tag + " BAD Not authenticated";
                case "LIST" ->
                    loggedIn
                            ? "* LIST (\\HasNoChildren) \"/\" INBOX\r\n" + tag + " OK LIST completed"
                            : tag + " BAD Not authenticated";
                case "NOOP", "CHECK", "CLOSE", "UNSELECT" -> tag + " OK " + c.verb() + " completed";
                default -> tag + " BAD " + c.verb() + " is not part of the optls responder";
            };
        }

        private String pop3(Command c) {
            int size = MAILDROP_MESSAGE.getBytes(StandardCharsets.US_ASCII).length;
            String args = c.arguments().strip();
            return switch (c.verb()) {
                case "USER" -> {
                    user = args;
                    yield "+OK";
                }
                case "PASS" -> {
                    if (USER.equals(user) && PASSWORD.equals(args)) {
                        loggedIn = true;
                        yield "+OK Logged in.";
                    }
                    user = null;
                    yield "-ERR [AUTH] Authentication failed.";
                }
                case "STAT" -> "+OK 1 " + size;
                case "LIST" ->
                    args.isEmpty()
                            ? "+OK 1 messages:\r\n1 " + size + "\r\n.\r\n"
                            : args.equals("1") ? "+OK 1 " + size : "-ERR There's no message " + args + ".";
                case "UIDL" ->
                    args.isEmpty()
                            ? "+OK\r\n1 optls-1\r\n.\r\n"
                            : args.equals("1") ? "+OK 1 optls-1" : "-ERR There's no message " + args + ".";
                case "RETR" ->
                    args.equals("1")
                            // RFC 1939 §3: the message is dot-stuffed; it has no line starting with '.'.
                            ? "+OK " + size + " octets\r\n" + MAILDROP_MESSAGE + ".\r\n"
                            : "-ERR There's no message " + args + ".";
                case "DELE" -> "+OK Marked to be deleted.";
                case "NOOP", "RSET" -> "+OK";
                case "QUIT" -> "+OK Logging out.";
                default -> "-ERR " + c.verb() + " is not part of the optls responder";
            };
        }

        /**
         * SMTP/LMTP after {@link CommandHandler#HAND_OVER} at DATA: reads the handed-over command from the
         * remaining bytes first, then speaks the protocol itself until QUIT.
         */
        private Result.Ending takeOver(Socket socket, ByteBuffer remaining) throws IOException {
            if (protocol == Protocol.IMAP || protocol == Protocol.POP3) {
                throw new IllegalStateException(protocol + " responder never hands over");
            }
            socket.setSoTimeout(10_000);
            boolean overTls = socket instanceof SSLSocket;
            LineReader in = new LineReader(remaining, socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            boolean first = true;
            String line;
            while ((line = in.readLine()) != null) {
                int sp = line.indexOf(' ');
                String verb = (sp < 0 ? line : line.substring(0, sp)).toUpperCase(Locale.ROOT);
                Command c = new Command("", verb, sp < 0 ? "" : line.substring(sp + 1), line, overTls);
                String reply;
                if (first) {
                    // The handed-over command was delivered (and recorded) through handle() already.
                    first = false;
                    reply = smtp(c);
                } else if (verb.equals("QUIT")) {
                    commands.add(c);
                    send(out, "221 2.0.0 Bye");
                    return Result.Ending.CLOSED;
                } else {
                    reply = handle(c);
                }
                if (!CommandHandler.HAND_OVER.equals(reply)) {
                    send(out, reply);
                    continue;
                }
                send(out, "354 End data with <CR><LF>.<CR><LF>");
                String content = in.readData();
                messages.add(new Message(from, List.copyOf(recipients), content, overTls));
                if (protocol == Protocol.LMTP) {
                    // RFC 2033 §4.2: one reply per accepted recipient.
                    for (String r : recipients) {
                        send(out, "250 2.0.0 <" + r + "> Ok");
                    }
                } else {
                    send(out, "250 2.0.0 Ok: queued");
                }
                from = null;
                recipients.clear();
            }
            throw new IOException("the client closed the connection without QUIT");
        }

        private static void send(OutputStream out, String reply) throws IOException {
            out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }

    /** {@code FROM:<a@example.org> SIZE=12} → {@code a@example.org}. */
    static String address(String arguments) {
        int open = arguments.indexOf('<');
        int close = arguments.indexOf('>', open + 1);
        return open >= 0 && close > open ? arguments.substring(open + 1, close) : arguments;
    }

    private static final Pattern IMAP_STRING = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"|(\\S+)");

    /** The atoms and quoted strings of IMAP arguments, unquoted: {@code optls "se\"cret"} → [optls, se"cret]. */
    static List<String> imapStrings(String arguments) {
        List<String> out = new ArrayList<>();
        Matcher m = IMAP_STRING.matcher(arguments);
        while (m.find()) {
            out.add(m.group(1) != null ? m.group(1).replaceAll("\\\\(.)", "$1") : m.group(2));
        }
        return out;
    }

    /** Reads lines from the bytes left over by the negotiation, then from the socket. */
    private static final class LineReader {
        private final ByteBuffer left;
        private final InputStream socket;

        LineReader(ByteBuffer left, InputStream socket) {
            this.left = left;
            this.socket = socket;
        }

        private int read() throws IOException {
            return left.hasRemaining() ? left.get() & 0xff : socket.read();
        }

        /** The next line without CRLF, or null at end of input. */
        String readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = read()) != '\n') {
                if (b < 0) {
                    return null;
                }
                if (line.size() >= MAX_LINE) {
                    throw new IOException("line longer than " + MAX_LINE + " bytes");
                }
                line.write(b);
            }
            String s = line.toString(StandardCharsets.UTF_8);
            return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }

        /** RFC 5321 §4.5.2: the message up to the line ".", dot-unstuffed, lines joined with CRLF. */
        String readData() throws IOException {
            StringBuilder content = new StringBuilder();
            String line;
            while (!".".equals(line = readLine())) {
                if (line == null) {
                    throw new IOException("end of input inside DATA");
                }
                content.append(line.startsWith(".") ? line.substring(1) : line).append("\r\n");
                if (content.length() > MAX_MESSAGE) {
                    throw new IOException("message larger than " + MAX_MESSAGE + " bytes");
                }
            }
            return content.toString();
        }
    }
}
