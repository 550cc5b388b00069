package dev.optls.tls.ftp;

import dev.optls.core.Blame;
import dev.optls.core.Command;
import dev.optls.core.Dialects;
import dev.optls.core.Failure;
import dev.optls.core.FailureKind;
import dev.optls.core.Negotiation;
import dev.optls.core.Phase;
import dev.optls.core.Protocol;
import dev.optls.core.ServerOptions;
import dev.optls.core.Step;
import dev.optls.tls.ServerTls;
import dev.optls.tls.TlsConnection;
import dev.optls.tls.TlsHandshakeException;
import dev.optls.tls.blocking.ServerSession;
import dev.optls.tls.blocking.Timeouts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import javax.net.ssl.SSLSession;

/**
 * A small read-only FTP server for demos and interop tests: the {@link dev.optls.core.ftp.FtpServer}
 * negotiation for the control connection ({@code AUTH TLS}, {@code PBSZ}, {@code PROT}, {@code CCC}
 * refused), plus {@code USER}/{@code PASS}, {@code SYST}, {@code PWD}, {@code CWD}, {@code TYPE}, {@code
 * EPSV}/{@code PASV}, {@code LIST}/{@code NLST}/{@code RETR}/{@code SIZE} over {@link FtpFiles}.
 *
 * <p>Bounded: one passive listener per session (on the control connection's local address, ephemeral
 * port), accepted only from the control connection's peer address, every wait limited by {@link
 * Timeouts}. With {@code PROT P} the server is the TLS server of each data connection and, under {@link
 * FtpServerPolicy#requireSessionReuse()}, refuses with 522 a data connection that does not resume the
 * control connection's TLS session. Active mode ({@code PORT}/{@code EPRT}) is refused (502).
 */
public final class FtpReadOnlyServer {
    private final ServerOptions options;
    private final Optional<ServerTls> tls;
    private final Timeouts timeouts;
    private final FtpFiles files;
    private final FtpServerPolicy policy;
    private final Consumer<DataConnection> observer;

    /**
     * What happened on one data connection, for logs and tests.
     *
     * @param command the transfer command ({@code LIST /pub})
     * @param tlsProtected whether the data connection ran TLS
     * @param tlsVersion its TLS version, or an empty string
     * @param resumed whether it resumed the control connection's TLS session
     * @param reply the final reply sent on the control connection (226, 522, ...)
     */
    public record DataConnection(
            String command, boolean tlsProtected, String tlsVersion, boolean resumed, String reply) {}

    /**
     * @param options the control connection's negotiation options (FEAT list, TLS offered/required)
     * @param tls the certificate; empty for a server without TLS
     * @param observer told about every data connection
     */
    public FtpReadOnlyServer(
            ServerOptions options,
            Optional<ServerTls> tls,
            Timeouts timeouts,
            FtpFiles files,
            FtpServerPolicy policy,
            Consumer<DataConnection> observer) {
        if ((options.tlsAvailable() || options.tlsActive()) && tls.isEmpty()) {
            throw new IllegalArgumentException("options offer TLS but no certificate was given");
        }
        this.options = options;
        this.tls = tls;
        this.timeouts = timeouts;
        this.files = files;
        this.policy = policy;
        this.observer = observer;
    }

    /** Serves one accepted control connection (plaintext, {@code AUTH TLS} when offered) until QUIT. */
    public ServerSession serve(Socket accepted) {
        return run(accepted, false);
    }

    /** Serves one connection of an implicit-TLS (ftps, 990) listener: TLS first, then the session. */
    public ServerSession serveImplicit(Socket accepted) {
        return run(accepted, true);
    }

    private ServerSession run(Socket accepted, boolean implicit) {
        Session session = new Session(accepted);
        try {
            accepted.setTcpNoDelay(true);
            return session.loop(implicit);
        } catch (IOException e) {
            closeQuietly(accepted);
            boolean timeout = e instanceof SocketTimeoutException;
            return new ServerSession(
                    Optional.empty(),
                    Optional.empty(),
                    session.controlTls,
                    Optional.of(new Failure(
                            Blame.NETWORK,
                            timeout ? FailureKind.TIMEOUT : FailureKind.UNEXPECTED_EOF,
                            Phase.SESSION,
                            (timeout ? "client too slow: " : "connection broken: ") + e.getMessage(),
                            true)));
        } finally {
            session.closeListener();
        }
    }

    private int millis(java.time.Duration d) {
        return (int) Math.min(Integer.MAX_VALUE, d.toMillis());
    }

    /** One control connection. Everything but the transport is reset when TLS starts. */
    private final class Session {
        private Socket socket;
        private Optional<TlsConnection> controlTls = Optional.empty();
        private String pendingUser;
        private boolean loggedIn;
        private boolean protectedData;
        private String cwd = "/";
        private ServerSocket listener;

        Session(Socket socket) {
            this.socket = socket;
        }

        ServerSession loop(boolean implicit) throws IOException {
            Negotiation negotiation;
            if (implicit) {
                try {
                    controlTls = Optional.of(
                            tls.orElseThrow().layer(socket, ByteBuffer.allocate(0), millis(timeouts.handshake())));
                } catch (TlsHandshakeException e) {
                    closeQuietly(socket);
                    return new ServerSession(
                            Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(e.failure()));
                }
                socket = controlTls.get().socket();
                negotiation = Dialects.server(Protocol.FTP, options.implicitTls());
            } else {
                negotiation = Dialects.server(Protocol.FTP, options);
            }
            while (true) {
                Step step = drive(negotiation);
                if (step instanceof Step.Deliver d) {
                    negotiation.respond(handle(d.command()));
                } else if (step instanceof Step.BeginHandshake begin) {
                    TlsConnection c;
                    try {
                        // CVE-2011-1575: bytes after AUTH TLS go to TLS as the start of the ClientHello.
                        c = tls.orElseThrow().layer(socket, begin.tlsInput(), millis(timeouts.handshake()));
                    } catch (TlsHandshakeException e) {
                        closeQuietly(socket);
                        return new ServerSession(
                                Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(e.failure()));
                    }
                    controlTls = Optional.of(c);
                    socket = c.socket();
                    negotiation.handshakeCompleted(c.summary());
                    // RFC 2228 §3: AUTH resets the security state; nothing of the plaintext session survives.
                    pendingUser = null;
                    loggedIn = false;
                    protectedData = false;
                    cwd = "/";
                    closeListener();
                    negotiation = Dialects.server(Protocol.FTP, options.afterUpgrade());
                } else if (step instanceof Step.Completed c) {
                    closeGracefully(socket);
                    return new ServerSession(Optional.empty(), Optional.of(c.result()), controlTls, Optional.empty());
                } else if (step instanceof Step.Failed f) {
                    closeQuietly(socket);
                    return new ServerSession(Optional.empty(), Optional.empty(), controlTls, Optional.of(f.failure()));
                } else {
                    throw new IllegalStateException("an FTP server negotiation returned " + step);
                }
            }
        }

        /** Like the blocking adapter's wire: flush output, read with a per-command deadline. */
        private Step drive(Negotiation negotiation) throws IOException {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buffer = new byte[8192];
            ByteBuffer pending = ByteBuffer.allocate(8192);
            long deadline = System.nanoTime() + timeouts.reply().toNanos();
            while (true) {
                Step step = negotiation.poll();
                if (step instanceof Step.WriteOutput) {
                    pending.clear();
                    negotiation.drainOutput(pending);
                    out.write(pending.array(), 0, pending.position());
                    if (!(negotiation.poll() instanceof Step.WriteOutput)) {
                        out.flush();
                    }
                    deadline = System.nanoTime() + timeouts.reply().toNanos();
                } else if (step instanceof Step.NeedInput) {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        throw new SocketTimeoutException("no complete command within " + timeouts.reply());
                    }
                    socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
                    int n = in.read(buffer);
                    if (n < 0) {
                        negotiation.receiveEof();
                    } else {
                        negotiation.receive(ByteBuffer.wrap(buffer, 0, n));
                    }
                } else {
                    return step;
                }
            }
        }

        private String handle(Command c) throws IOException {
            String args = c.arguments();
            switch (c.verb()) {
                case "USER" -> {
                    loggedIn = false;
                    pendingUser = args;
                    return "331 Please specify the password.";
                }
                case "PASS" -> {
                    if (pendingUser == null) {
                        return "503 Login with USER first.";
                    }
                    String user = pendingUser;
                    pendingUser = null;
                    boolean anonymous = user.equalsIgnoreCase("anonymous") || user.equalsIgnoreCase("ftp");
                    if ((anonymous && policy.anonymous())
                            || args.equals(policy.users().get(user))) {
                        loggedIn = true;
                        return "230 Login successful.";
                    }
                    return "530 Login incorrect.";
                }
                case "SYST" -> {
                    return "215 UNIX Type: L8";
                }
                case "NOOP" -> {
                    return "200 NOOP ok.";
                }
                case "OPTS" -> {
                    return args.toUpperCase(Locale.ROOT).startsWith("UTF8")
                            ? "200 Always in UTF8 mode."
                            : "501 Option not understood.";
                }
                case "PROT" -> {
                    if (args.equals("P")) {
                        protectedData = true;
                        return "200 PROT now Private.";
                    }
                    if (policy.refuseClearData()) {
                        // RFC 4217 §9 / RFC 2228: 534 "request denied for policy reasons".
                        return "534 PROT C refused: data connections must be protected.";
                    }
                    protectedData = false;
                    return "200 PROT now Clear.";
                }
                case "TYPE" -> {
                    String t = args.toUpperCase(Locale.ROOT);
                    return t.equals("I") || t.equals("A") || t.equals("A N") || t.equals("L 8")
                            ? "200 Type set to " + t + "."
                            : "504 Type not supported.";
                }
                case "MODE" -> {
                    return args.equalsIgnoreCase("S") ? "200 Mode set to S." : "504 Only stream mode.";
                }
                case "STRU" -> {
                    return args.equalsIgnoreCase("F") ? "200 Structure set to F." : "504 Only file structure.";
                }
                case "PORT", "EPRT" -> {
                    return "502 Active mode is not supported: use EPSV or PASV.";
                }
                default -> {
                    // All other commands need a login.
                }
            }
            if (!loggedIn) {
                return "530 Please login with USER and PASS.";
            }
            switch (c.verb()) {
                case "PWD", "XPWD" -> {
                    return "257 \"" + cwd + "\" is the current directory";
                }
                case "CWD", "CDUP" -> {
                    String target = FtpFiles.normalize(cwd, c.verb().equals("CDUP") ? ".." : args);
                    if (!files.isDirectory(target)) {
                        return "550 Failed to change directory.";
                    }
                    cwd = target;
                    return "250 Directory successfully changed.";
                }
                case "EPSV" -> {
                    if (args.equalsIgnoreCase("ALL")) {
                        return "200 EPSV ALL ok.";
                    }
                    return "229 Entering Extended Passive Mode (|||" + openListener() + "|)";
                }
                case "PASV" -> {
                    InetAddress local = socket.getLocalAddress();
                    if (!(local instanceof Inet4Address)) {
                        return "522 PASV needs IPv4: use EPSV";
                    }
                    int port = openListener();
                    byte[] a = local.getAddress();
                    return "227 Entering Passive Mode (" + (a[0] & 0xff) + "," + (a[1] & 0xff) + "," + (a[2] & 0xff)
                            + "," + (a[3] & 0xff) + "," + (port >> 8) + "," + (port & 0xff) + ").";
                }
                case "SIZE" -> {
                    return files.file(FtpFiles.normalize(cwd, args))
                            .map(b -> "213 " + b.length)
                            .orElse("550 Could not get file size.");
                }
                case "LIST", "NLST" -> {
                    String path = args.startsWith("-") ? stripOptions(args) : args;
                    String dir = FtpFiles.normalize(cwd, path);
                    byte[] listing = listing(dir, c.verb().equals("NLST"));
                    if (listing == null) {
                        return "550 No such directory.";
                    }
                    return transfer(c.line(), listing, "150 Here comes the directory listing.");
                }
                case "RETR" -> {
                    Optional<byte[]> file = files.file(FtpFiles.normalize(cwd, args));
                    if (file.isEmpty()) {
                        return "550 Failed to open file.";
                    }
                    return transfer(
                            c.line(),
                            file.get(),
                            "150 Opening BINARY mode data connection for " + args + " (" + file.get().length
                                    + " bytes).");
                }
                default -> {
                    return "502 Command not implemented.";
                }
            }
        }

        private String stripOptions(String args) {
            int sp = args.indexOf(' ');
            return sp < 0 ? "" : args.substring(sp + 1).strip();
        }

        private byte[] listing(String dir, boolean namesOnly) {
            if (files.file(dir).isPresent()) {
                String name = dir.substring(dir.lastIndexOf('/') + 1);
                return line(name, files.file(dir).get().length, namesOnly).getBytes(StandardCharsets.UTF_8);
            }
            if (!files.isDirectory(dir)) {
                return null;
            }
            StringBuilder b = new StringBuilder();
            for (Map.Entry<String, Long> e : files.children(dir).entrySet()) {
                b.append(line(e.getKey(), e.getValue(), namesOnly));
            }
            return b.toString().getBytes(StandardCharsets.UTF_8);
        }

        private String line(String name, long size, boolean namesOnly) {
            if (namesOnly) {
                return name + "\r\n";
            }
            // The Unix "ls -l" shape that FTP clients parse (RFC 959 leaves LIST's format open).
            return String.format(
                            Locale.ROOT,
                            "%s    1 ftp      ftp      %8d Jan 01  2026 %s",
                            size < 0 ? "dr-xr-xr-x" : "-r--r--r--",
                            Math.max(size, 0),
                            name)
                    + "\r\n"; // RFC 959 §3.1.1.1: ASCII type lines end with CRLF on the wire, whatever the platform.
        }

        private int openListener() throws IOException {
            closeListener();
            listener = new ServerSocket(0, 1, socket.getLocalAddress());
            listener.setSoTimeout(millis(timeouts.connect()));
            return listener.getLocalPort();
        }

        void closeListener() {
            if (listener != null) {
                try {
                    listener.close();
                } catch (IOException ignored) {
                    // Nothing to do: the listener is gone either way.
                }
                listener = null;
            }
        }

        private String transfer(String command, byte[] content, String preliminary) throws IOException {
            if (listener == null) {
                return "425 Use EPSV or PASV first.";
            }
            if (controlTls.isPresent() && !protectedData && policy.refuseClearData()) {
                // RFC 4217 §9: 521 "data connection cannot be opened with this PROT setting".
                return report(command, false, "", false, "521 Data connections must be protected: PBSZ 0, PROT P.");
            }
            Socket data;
            try {
                data = listener.accept();
            } catch (SocketTimeoutException e) {
                return "425 No data connection within " + timeouts.connect().toSeconds() + " s.";
            } finally {
                closeListener();
            }
            try {
                data.setSoTimeout(millis(timeouts.reply()));
                if (!data.getInetAddress().equals(socket.getInetAddress())) {
                    // Data port theft: only the control connection's peer may connect (vsftpd pasv_promiscuous=NO).
                    return report(command, false, "", false, "425 Data connection from a foreign address refused.");
                }
                // RFC 959 §5.4: the preliminary reply precedes the transfer; the client starts TLS after it.
                socket.getOutputStream().write((preliminary + "\r\n").getBytes(StandardCharsets.UTF_8));
                socket.getOutputStream().flush();
                if (!protectedData) {
                    data.getOutputStream().write(content);
                    data.getOutputStream().flush();
                    return report(command, false, "", false, "226 Transfer complete.");
                }
                TlsConnection dataTls;
                long handshakeStart = System.currentTimeMillis();
                try {
                    dataTls = tls.orElseThrow().layer(data, ByteBuffer.allocate(0), millis(timeouts.handshake()));
                } catch (TlsHandshakeException e) {
                    // RFC 4217 §10.2 / §12: 522 for a failed data-connection TLS negotiation.
                    return report(command, true, "", false, "522 TLS negotiation on the data connection failed.");
                }
                boolean resumed = sameSession(controlTls.orElseThrow(), dataTls, handshakeStart);
                String version = dataTls.protocolVersion();
                try (Socket tlsData = dataTls.socket()) {
                    if (!resumed && policy.requireSessionReuse()) {
                        // RFC 4217 §10.2; vsftpd require_ssl_reuse / FileZilla Server: refuse fresh sessions.
                        return report(
                                command,
                                true,
                                version,
                                false,
                                "522 TLS session of data connection not resumed (session reuse required).");
                    }
                    tlsData.getOutputStream().write(content);
                    tlsData.getOutputStream().flush();
                    // close_notify alone (truncation detection). A plain close() at TLS 1.3 would send
                    // user_canceled first, which GnuTLS clients (lftp) report as a fatal alert.
                    tlsData.shutdownOutput();
                }
                // SSLSocket.close() sent close_notify before closing TCP (truncation detection).
                return report(command, true, version, resumed, "226 Transfer complete.");
            } finally {
                closeQuietly(data);
            }
        }

        private String report(String command, boolean tlsProtected, String version, boolean resumed, String reply) {
            observer.accept(new DataConnection(command, tlsProtected, version, resumed, reply));
            return reply;
        }
    }

    /**
     * Whether {@code data} resumed {@code control}'s session; JSSE has no such flag. The same session id
     * (TLS ≤ 1.2 resumption by id), or the same creation time, older than the data handshake: JSSE gives a
     * resumed session (TLS 1.3 PSK, session tickets) a new id but keeps the creation time of the session it
     * resumes, while a full handshake creates its session during the data handshake. (Whether a certificate
     * was chosen is no signal: JDK 25 consults the key manager on resumption too.)
     */
    private static boolean sameSession(TlsConnection control, TlsConnection data, long handshakeStart) {
        SSLSession c = control.socket().getSession();
        SSLSession d = data.socket().getSession();
        if (c.getId().length > 0 && Arrays.equals(c.getId(), d.getId())) {
            return true;
        }
        return d.getCreationTime() == c.getCreationTime() && d.getCreationTime() < handshakeStart;
    }

    /**
     * After QUIT: close_notify alone, then close. A plain close() at TLS 1.3 sends user_canceled first,
     * which GnuTLS clients (lftp) report as a fatal alert.
     */
    private static void closeGracefully(Socket s) {
        if (s instanceof javax.net.ssl.SSLSocket && !s.isClosed()) {
            try {
                s.shutdownOutput();
            } catch (IOException ignored) {
                // The peer may be gone already: closing is all that is left.
            }
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // Closing after the end or a failure: nothing more to report.
        }
    }
}
