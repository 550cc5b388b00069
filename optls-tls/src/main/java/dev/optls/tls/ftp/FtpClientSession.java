package dev.optls.tls.ftp;

import dev.optls.core.Limits;
import dev.optls.core.ftp.FtpReply;
import dev.optls.tls.ClientTls;
import dev.optls.tls.TlsConnection;
import dev.optls.tls.TlsDataChannel;
import dev.optls.tls.TlsHandshakeException;
import dev.optls.tls.blocking.ClientSession;
import dev.optls.tls.blocking.Timeouts;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An FTP session on a control connection that {@link dev.optls.tls.blocking.StartTlsClient} negotiated
 * ({@code AUTH TLS}, or implicit TLS on ftps): login, data protection and read-only transfers.
 *
 * <pre>{@code
 * ClientSession control = new StartTlsClient(Protocol.FTP, options, tls, timeouts).connect(host, 21);
 * try (FtpClientSession ftp = FtpClientSession.over(control, Optional.of(tls), timeouts, Limits.DEFAULT)) {
 *     ftp.login("anonymous", "optls@");
 *     ftp.protectData();                       // PBSZ 0, PROT P
 *     FtpTransfer listing = ftp.list("/pub");  // EPSV (or PASV), LIST, TLS data channel resuming the session
 * }
 * }</pre>
 *
 * <p>Data connections are passive: {@code EPSV} (RFC 2428), falling back to {@code PASV} when the server
 * does not know it; the address in a {@code PASV} reply is ignored and the control connection's peer is
 * used instead (protocols.md §8.3: NAT, and no FTP bounce to a third host). With {@code PROT P} the client
 * is the TLS client of every data connection and resumes the control connection's TLS session (RFC 4217
 * §10.2; see {@link ClientTls#layerDataChannel}); it sends close_notify before closing it.
 */
public final class FtpClientSession implements Closeable {
    private static final Pattern EPSV = Pattern.compile("\\((.)\\1\\1(\\d{1,5})\\1\\)");
    private static final Pattern PASV =
            Pattern.compile("(\\d{1,3}),(\\d{1,3}),(\\d{1,3}),(\\d{1,3}),(\\d{1,3}),(\\d{1,3})");

    private final Socket control;
    private final Optional<TlsConnection> controlTls;
    private final Optional<ClientTls> tls;
    private final Timeouts timeouts;
    private final long maxTransferBytes;
    private final ControlChannel channel;
    private boolean dataProtected;
    private boolean epsvRefused;

    private FtpClientSession(
            Socket control,
            Optional<TlsConnection> controlTls,
            Optional<ClientTls> tls,
            Timeouts timeouts,
            Limits limits,
            long maxTransferBytes)
            throws IOException {
        this.control = control;
        this.controlTls = controlTls;
        this.tls = tls;
        this.timeouts = timeouts;
        this.maxTransferBytes = maxTransferBytes;
        control.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeouts.reply().toMillis()));
        this.channel = new ControlChannel(control, limits);
    }

    /**
     * Continues on a negotiated control connection.
     *
     * @param session what {@code StartTlsClient} returned; must be open (status TLS or PLAINTEXT)
     * @param tls the {@code ClientTls} that layered the control connection (needed for protected data)
     * @param timeouts connect and reply limits; the handshake limit bounds data-connection handshakes
     * @param limits line and reply bounds of the control connection
     */
    public static FtpClientSession over(
            ClientSession session, Optional<ClientTls> tls, Timeouts timeouts, Limits limits) throws IOException {
        Socket socket = session.socket()
                .orElseThrow(() -> new IllegalArgumentException("the FTP control connection is closed: " + session));
        return new FtpClientSession(socket, session.tls(), tls, timeouts, limits, 64L * 1024 * 1024);
    }

    /** Whether the control connection runs TLS. */
    public boolean controlProtected() {
        return controlTls.isPresent();
    }

    /** Whether {@code PROT P} is in force. */
    public boolean dataProtected() {
        return dataProtected;
    }

    /** Sends one command and reads its (final or preliminary) reply. */
    public FtpReply command(String line) throws IOException {
        channel.send(line);
        return channel.reply();
    }

    /**
     * RFC 959 §4.1.1: {@code USER}, then {@code PASS} when asked (331).
     *
     * @return the 230 reply
     * @throws FtpReplyException if the server refuses the login
     */
    public FtpReply login(String user, String password) throws IOException {
        Objects.requireNonNull(password, "password");
        FtpReply reply = command("USER " + user);
        if (reply.code() == 331) {
            reply = command("PASS " + password);
        }
        if (reply.code() != 230 && reply.code() != 202) {
            throw new FtpReplyException("login as " + user + " refused: " + reply.summary(), reply);
        }
        return reply;
    }

    /**
     * RFC 4217 §8-9: {@code PBSZ 0} then {@code PROT P}: every later data connection runs TLS.
     *
     * @throws IllegalStateException if the control connection is not protected
     * @throws FtpReplyException if the server refuses either command
     */
    public void protectData() throws IOException {
        if (controlTls.isEmpty() || tls.isEmpty()) {
            throw new IllegalStateException("PROT P needs a TLS control connection and its ClientTls");
        }
        FtpReply pbsz = command("PBSZ 0");
        if (pbsz.code() != 200) {
            throw new FtpReplyException("PBSZ 0 refused: " + pbsz.summary(), pbsz);
        }
        FtpReply prot = command("PROT P");
        if (prot.code() != 200) {
            throw new FtpReplyException("PROT P refused: " + prot.summary(), prot);
        }
        dataProtected = true;
    }

    /** {@code LIST [path]}: a directory listing in the server's format. */
    public FtpTransfer list(String path) throws IOException {
        return transfer(path == null || path.isEmpty() ? "LIST" : "LIST " + path);
    }

    /** {@code NLST [path]}: names only. */
    public FtpTransfer nameList(String path) throws IOException {
        return transfer(path == null || path.isEmpty() ? "NLST" : "NLST " + path);
    }

    /** {@code TYPE I} then {@code RETR path}: the file's bytes. */
    public FtpTransfer retrieve(String path) throws IOException {
        FtpReply type = command("TYPE I");
        if (type.code() != 200) {
            throw new FtpReplyException("TYPE I refused: " + type.summary(), type);
        }
        return transfer("RETR " + path);
    }

    /** {@code QUIT}; the connection is closed afterwards. */
    public void quit() throws IOException {
        try {
            command("QUIT");
        } finally {
            control.close();
        }
    }

    @Override
    public void close() throws IOException {
        control.close();
    }

    private FtpTransfer transfer(String command) throws IOException {
        Socket data = passive();
        try {
            channel.send(command);
            FtpReply first = channel.reply();
            // RFC 959 §4.2 / §5.4: 125 or 150 open the transfer; anything else ends it.
            if (first.code() != 125 && first.code() != 150) {
                throw new FtpReplyException(command + " refused: " + first.summary(), first);
            }
            byte[] bytes;
            boolean resumed = false;
            boolean closeNotify = false;
            String version = "";
            if (dataProtected) {
                TlsDataChannel channel = layer(data);
                try (channel) {
                    bytes = readAll(channel.input());
                    resumed = channel.resumed();
                    closeNotify = channel.closeNotifyReceived();
                    version = channel.session().getProtocol();
                }
            } else {
                bytes = readAll(data.getInputStream());
            }
            FtpReply done = channel.reply();
            // RFC 959 §4.2: 226 closing data connection (transfer complete), or 250.
            if (done.code() != 226 && done.code() != 250) {
                throw new FtpReplyException(
                        command + " did not complete: " + done.summary() + hint(done, resumed), done);
            }
            return new FtpTransfer(bytes, dataProtected, version, resumed, closeNotify, done);
        } finally {
            data.close();
        }
    }

    /** What to change when a server refuses a data connection that did not resume the session. */
    private String hint(FtpReply done, boolean resumed) {
        if (done.code() != 522 || resumed || !dataProtected) {
            return "";
        }
        String version = controlTls.map(TlsConnection::protocolVersion).orElse("");
        if (version.equals("TLSv1.2")) {
            // Observed with vsftpd 3.0.3: it sends TLS 1.2 tickets with a lifetime of 2^31-1 s, which JSSE
            // discards (more than 7 days), and no session id; so there is nothing to resume.
            return " (the data connection could not resume the TLS 1.2 session: the JDK discards session tickets"
                    + " valid for more than 7 days, as vsftpd sends them; start Java with"
                    + " -Djdk.tls.client.enableSessionTicketExtension=false so the server uses session ids, or"
                    + " let the server use TLS 1.3)";
        }
        return " (the server requires the data connection to resume the control connection's TLS session and did"
                + " not accept it)";
    }

    private TlsDataChannel layer(Socket data) throws IOException {
        try {
            return tls.orElseThrow().layerDataChannel(controlTls.orElseThrow(), data, (int)
                    Math.min(Integer.MAX_VALUE, timeouts.handshake().toMillis()));
        } catch (TlsHandshakeException e) {
            // The server usually explains (522) on the control connection.
            String explanation = "";
            try {
                explanation = "; the server said: " + channel.reply().summary();
            } catch (IOException ignored) {
                // No explanation arrived: report the handshake failure alone.
            }
            throw new IOException(
                    "TLS on the data connection failed: " + e.failure().detail() + explanation, e);
        }
    }

    private byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            if (out.size() + (long) n > maxTransferBytes) {
                throw new IOException("the transfer is larger than " + maxTransferBytes + " bytes; aborted");
            }
            out.write(buffer, 0, n);
        }
        return out.toByteArray();
    }

    /** RFC 2428 §3 EPSV, else RFC 959 PASV; connects to the control connection's peer address. */
    private Socket passive() throws IOException {
        int port = -1;
        if (!epsvRefused) {
            FtpReply epsv = command("EPSV");
            if (epsv.code() == 229) {
                Matcher m = EPSV.matcher(epsv.text());
                if (!m.find()) {
                    throw new FtpReplyException("cannot parse the EPSV reply: " + epsv.summary(), epsv);
                }
                port = Integer.parseInt(m.group(2));
            } else if (epsv.code() >= 500) {
                epsvRefused = true;
            } else {
                throw new FtpReplyException("EPSV failed: " + epsv.summary(), epsv);
            }
        }
        if (port < 0) {
            FtpReply pasv = command("PASV");
            Matcher m = PASV.matcher(pasv.text());
            if (pasv.code() != 227 || !m.find()) {
                throw new FtpReplyException("PASV failed: " + pasv.summary(), pasv);
            }
            // protocols.md §8.3: the address in the reply is ignored (NAT, FTP bounce); only the port counts.
            port = Integer.parseInt(m.group(5)) * 256 + Integer.parseInt(m.group(6));
        }
        if (port < 1 || port > 65535) {
            throw new IOException("the server gave an invalid data port " + port);
        }
        Socket data = new Socket();
        try {
            data.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeouts.reply().toMillis()));
            data.connect(new InetSocketAddress(control.getInetAddress(), port), (int)
                    Math.min(Integer.MAX_VALUE, timeouts.connect().toMillis()));
        } catch (IOException e) {
            data.close();
            throw e;
        }
        return data;
    }
}
