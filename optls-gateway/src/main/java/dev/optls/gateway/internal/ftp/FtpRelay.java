package dev.optls.gateway.internal.ftp;

import dev.optls.core.Limits;
import dev.optls.core.ftp.FtpReply;
import dev.optls.core.ftp.FtpReplyReader;
import dev.optls.gateway.Reasons;
import dev.optls.gateway.internal.Relay;
import dev.optls.netty.ServerEngines;
import dev.optls.netty.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import javax.net.ssl.SSLEngine;

/**
 * Relays one FTP control connection whose client runs TLS (after {@code AUTH TLS}, RFC 4217 §4, or on an
 * implicit-TLS port) to a plaintext FTP backend, one command at a time, and the passive data connections
 * that go with it.
 *
 * <p>The client's commands are read line by line (bounded by {@link Limits#maxLineLength()}); the next one
 * is read only when the previous one has its final reply (RFC 959 §4.2: one final reply per command, 1yz
 * replies announce another), so the gateway's own replies and the backend's stay in order. So an ABOR sent
 * during a transfer reaches the backend after the transfer's final reply (426 once the client closed its data
 * connection), as a server without asynchronous ABOR (vsftpd's default) takes it anyway. The gateway
 * answers itself, and never sends to the plaintext backend:
 *
 * <ul>
 *   <li>{@code PBSZ 0}: 200 (RFC 4217 §8: TLS is a stream protection, the buffer size is 0);
 *   <li>{@code PROT P}: 200, after PBSZ (RFC 4217 §9: PBSZ must precede PROT, else 503); {@code PROT C}:
 *       534 by policy, since the route is a TLS route and clear data would undo it (RFC 4217 §9 lets a
 *       server refuse a level with 534); {@code PROT S}/{@code E}: 536 (not provided by TLS);
 *   <li>{@code CCC}: 533 (RFC 4217 §11: refused for policy reasons; a clear control connection could be
 *       hijacked); {@code AUTH}: 503 (TLS is already active); {@code ADAT}, {@code MIC}, {@code CONF},
 *       {@code ENC}: 502 (RFC 2228 mechanisms other than TLS are not offered);
 *   <li>{@code PORT}/{@code EPRT}: 502, use EPSV or PASV: active mode would have the gateway connect out to
 *       the client, which it does not do (passive mode only);
 *   <li>{@code PASV}/{@code EPSV} before {@code PROT P}: 521 (RFC 4217 §9 / protocols.md §8.2: the data
 *       connection cannot be opened with this PROT setting); the default protection is C (RFC 2228 §3);
 *   <li>{@code REIN}: 502 (it would reset the backend's login but not the control connection's TLS state).
 * </ul>
 *
 * <p>The backend's replies are assembled with the core's {@link FtpReplyReader} (multi-line {@code xyz-} /
 * {@code xyz }, bounded by {@link Limits#maxReplyLines()}) and passed on byte for byte, except: {@code 227}
 * and {@code 229} name the gateway's own data port instead of the backend's (see {@link DataPort}); the
 * {@code 211} FEAT reply lists {@code PBSZ} and {@code PROT} (RFC 4217 §6) and drops what the gateway
 * answers or refuses; and a transfer's final reply (after its 1yz) waits until the client's data connection
 * is closed, so that the client has every byte (and the close_notify) before it reads {@code 226}.
 */
public final class FtpRelay {
    /** Told about each refusal; {@code reason} is one of the {@code Reasons.FTP_*} names. */
    public interface Listener {
        /** A command or data connection was refused, or the control connection closed for {@code reason}. */
        void refused(String reason, String detail);
    }

    /**
     * What the relay needs from its route.
     *
     * @param tls the route's certificate and engine, for the data connections' TLS (the client is the TLS
     *     client of each data connection, RFC 4217 §10)
     * @param limits line and reply bounds
     * @param replyTimeout how long a data connection may take to arrive, and a transfer's reply may wait
     *     for the data connection to close
     * @param handshakeTimeout how long a data connection's TLS handshake may take
     * @param transport the channel classes for the data listener and the backend's data connections
     * @param requireSessionReuse refuse (522) a data connection whose TLS does not resume the control
     *     connection's session (RFC 4217 §10.2; vsftpd {@code require_ssl_reuse})
     */
    public record Settings(
            ServerEngines tls,
            Limits limits,
            Duration replyTimeout,
            Duration handshakeTimeout,
            Transport transport,
            boolean requireSessionReuse) {
        public Settings {
            Objects.requireNonNull(tls, "tls");
            Objects.requireNonNull(limits, "limits");
            Objects.requireNonNull(replyTimeout, "replyTimeout");
            Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
            Objects.requireNonNull(transport, "transport");
        }
    }

    /** What a command forwarded to the backend expects back. */
    enum Expect {
        /** The backend's greeting on an implicit-TLS route (no command sent). */
        GREETING,
        PASV,
        EPSV,
        FEAT,
        OTHER
    }

    /** The command waiting for its final reply; {@code preliminary} once a 1yz came (a transfer began). */
    private record Pending(Expect expect, boolean preliminary) {}

    /** How far the client got with the data-connection protection (RFC 4217 §8-9). */
    private enum Protection {
        CLEAR,
        BUFFER_SIZE_SET,
        PRIVATE
    }

    private final Channel client;
    private Channel backend;
    private final Settings settings;
    private final Relay.Meter fromClient;
    private final Relay.Meter toClient;
    private final Listener listener;
    private final ByteBuf clientIn;
    private final ByteBuf backendIn;
    private final FtpReplyReader replies;
    private final List<String> replyLines = new ArrayList<>();
    private DataPort data;
    private Pending pending;
    private Protection protection = Protection.CLEAR;
    /** Backend lines are not processed while a reply is held for the data connection or a port is opened. */
    private boolean backendPaused;

    private boolean closed;
    private ChannelFuture lastWrite;

    private FtpRelay(
            Channel client,
            Settings settings,
            boolean backendGreets,
            Relay.Meter fromClient,
            Relay.Meter toClient,
            Listener listener) {
        this.client = client;
        this.settings = settings;
        this.fromClient = fromClient;
        this.toClient = toClient;
        this.listener = listener;
        this.clientIn = client.alloc().buffer();
        this.backendIn = client.alloc().buffer();
        this.replies = new FtpReplyReader(settings.limits());
        // Nothing is read from the client until the backend is ready (see begin).
        this.pending = backendGreets ? new Pending(Expect.GREETING, false) : new Pending(Expect.OTHER, true);
    }

    /**
     * Starts relaying {@code client} (TLS up, auto-read off) to the backend once {@code backendReady} completes
     * with it (plaintext, connected, auto-read off, on the client's event loop). Called on that event loop,
     * before the client's bytes that came with the end of its handshake are passed on: they are held here.
     *
     * @param backendGreets whether the backend's greeting is still to come and goes to the client (implicit
     *     TLS); false when the gateway read it already (STARTTLS: the client was greeted by the gateway)
     */
    public static void start(
            Channel client,
            Future<Channel> backendReady,
            Settings settings,
            boolean backendGreets,
            Relay.Meter fromClient,
            Relay.Meter toClient,
            Listener listener) {
        FtpRelay relay = new FtpRelay(client, settings, backendGreets, fromClient, toClient, listener);
        client.pipeline().addLast(relay.new ClientSide());
        backendReady.addListener(f -> {
            if (!f.isSuccess()) {
                relay.closeAll();
                return;
            }
            Channel backend = backendReady.getNow();
            if (backend.eventLoop() != client.eventLoop()) {
                throw new IllegalArgumentException("the client and backend channels must share an event loop");
            }
            client.eventLoop().execute(() -> relay.begin(backend));
        });
    }

    private void begin(Channel ready) {
        if (closed) {
            Relay.closeOnFlush(ready);
            return;
        }
        backend = ready;
        data = new DataPort(this, client, backend, settings, fromClient, toClient);
        backend.pipeline().addLast(new BackendSide());
        fromClient.started();
        toClient.started();
        if (pending.expect() != Expect.GREETING) {
            pending = null;
        }
        processClient();
        backend.read();
    }

    void refused(String reason, String detail) {
        listener.refused(reason, detail);
    }

    // ---- client → backend

    private void processClient() {
        while (!closed && pending == null) {
            int eol = clientIn.indexOf(clientIn.readerIndex(), clientIn.writerIndex(), (byte) '\n');
            int max = settings.limits().maxLineLength();
            if (eol < 0 ? clientIn.readableBytes() >= max : eol - clientIn.readerIndex() + 1 > max) {
                // RFC 959 §4.2: 500 for a line the server cannot take; the connection is closed after it.
                refused(Reasons.FTP_COMMAND_TOO_LONG, "client command longer than " + max + " bytes");
                toClient(List.of("500 Command line too long (limit " + max + " bytes), closing"));
                closeAll();
                return;
            }
            if (eol < 0) {
                clientIn.discardReadBytes();
                client.read();
                return;
            }
            if (backend == null) {
                return;
            }
            String raw = clientIn.toString(
                    clientIn.readerIndex(), eol - clientIn.readerIndex(), StandardCharsets.ISO_8859_1);
            clientIn.readerIndex(eol + 1);
            command(raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw);
        }
    }

    private void command(String line) {
        String trimmed = line.strip();
        int sp = trimmed.indexOf(' ');
        // RFC 959 §5.3: command codes are case-insensitive and separated from their arguments by a space.
        String verb = (sp < 0 ? trimmed : trimmed.substring(0, sp)).toUpperCase(Locale.ROOT);
        String args = sp < 0 ? "" : trimmed.substring(sp + 1).strip();
        switch (verb) {
            case "" -> local("500 Syntax error, command unrecognized");
            case "PBSZ" -> pbsz(args);
            case "PROT" -> prot(args);
            // RFC 4217 §11: CCC may be refused with 533 "command protection level denied for policy reasons".
            case "CCC" -> local("533 CCC denied: the control connection stays protected");
            // RFC 2228 §3: a second AUTH inside TLS is a bad sequence of commands.
            case "AUTH" -> local("503 TLS is already active");
            case "ADAT", "MIC", "CONF", "ENC" -> local("502 " + verb + " not supported: the protection is TLS");
            case "PORT", "EPRT" -> {
                refused(
                        Reasons.FTP_ACTIVE_MODE,
                        verb + " refused: the gateway relays passive data connections only (EPSV or PASV)");
                local("502 Active mode is not supported through this gateway: use EPSV or PASV");
            }
            case "REIN" -> local("502 REIN is not supported through this gateway: reconnect instead");
            case "PASV", "EPSV" -> {
                if (verb.equals("EPSV") && args.equalsIgnoreCase("ALL")) {
                    // RFC 2428 §4: the client promises to use EPSV only; the backend may know.
                    forward(line, Expect.OTHER);
                } else if (protection != Protection.PRIVATE) {
                    refused(
                            Reasons.FTP_DATA_UNPROTECTED,
                            verb + " before PROT P: the route carries protected data connections only");
                    // RFC 4217 §9 / protocols.md §8.2: 521 "data connection cannot be opened with this PROT
                    // setting"; RFC 2228 §3: the default protection level is Clear.
                    local("521 Data connections must be protected: send PBSZ 0 and PROT P first");
                } else {
                    forward(line, verb.equals("PASV") ? Expect.PASV : Expect.EPSV);
                }
            }
            case "FEAT" -> forward(line, Expect.FEAT);
            default -> forward(line, Expect.OTHER);
        }
    }

    private void pbsz(String args) {
        if (args.isEmpty() || args.length() > 10 || !args.chars().allMatch(c -> c >= '0' && c <= '9')) {
            // RFC 2228 §3: PBSZ <decimal-integer>.
            local("501 PBSZ takes a decimal number: PBSZ 0");
            return;
        }
        if (protection == Protection.CLEAR) {
            protection = Protection.BUFFER_SIZE_SET;
        }
        // RFC 4217 §8: the buffer size is 0 with TLS; a server given another value answers "PBSZ=0".
        local("200 PBSZ=0");
    }

    private void prot(String args) {
        if (protection == Protection.CLEAR) {
            // RFC 4217 §9 / RFC 2228 §3: PROT must follow a successful PBSZ.
            local("503 PROT needs PBSZ first");
            return;
        }
        String level = args.toUpperCase(Locale.ROOT);
        switch (level) {
            case "P" -> {
                protection = Protection.PRIVATE;
                local("200 PROT now Private");
            }
            case "C" -> {
                refused(Reasons.FTP_PROT_CLEAR, "PROT C refused: the route protects every data connection");
                // RFC 4217 §9 / RFC 2228 §3: 534 "request denied for policy reasons". The level stays.
                local("534 PROT C refused: data connections through this gateway must be protected (PROT P)");
            }
            case "S", "E" -> {
                refused(Reasons.FTP_PROT_CLEAR, "PROT " + level + " refused: TLS provides P only");
                // RFC 4217 §9: TLS has no Safe-only or Confidential-only level: 536.
                local("536 PROT " + level + " not supported with TLS: use PROT P");
            }
            default -> local("504 Unknown protection level: use PROT P");
        }
    }

    private void local(String reply) {
        toClient(List.of(reply));
    }

    private void forward(String line, Expect expect) {
        pending = new Pending(expect, false);
        ByteBuf out = Unpooled.copiedBuffer(line + "\r\n", StandardCharsets.ISO_8859_1);
        fromClient.relayed(out.readableBytes());
        backend.writeAndFlush(out);
    }

    // ---- backend → client

    private void processBackend() {
        while (!closed && !backendPaused) {
            int eol = backendIn.indexOf(backendIn.readerIndex(), backendIn.writerIndex(), (byte) '\n');
            int max = settings.limits().maxLineLength();
            if (eol < 0 ? backendIn.readableBytes() >= max : eol - backendIn.readerIndex() + 1 > max) {
                backendFailed("the backend sent a reply line longer than " + max + " bytes");
                return;
            }
            if (eol < 0) {
                backendIn.discardReadBytes();
                readBackendAfterWrite();
                return;
            }
            String raw = backendIn.toString(
                    backendIn.readerIndex(), eol - backendIn.readerIndex(), StandardCharsets.ISO_8859_1);
            backendIn.readerIndex(eol + 1);
            String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
            FtpReply reply;
            try {
                reply = replies.accept(line);
            } catch (FtpReplyReader.MalformedReplyException e) {
                backendFailed("the backend's reply is not FTP: " + e.getMessage());
                return;
            }
            replyLines.add(line);
            if (reply != null) {
                List<String> lines = List.copyOf(replyLines);
                replyLines.clear();
                reply(reply, lines);
            }
        }
    }

    /** The next backend read once the client has taken what was written to it (back-pressure). */
    private void readBackendAfterWrite() {
        if (lastWrite == null || lastWrite.isDone()) {
            backend.read();
        } else {
            lastWrite.addListener(f -> backend.read());
        }
    }

    private void reply(FtpReply reply, List<String> lines) {
        Pending p = pending;
        if (reply.preliminary()) {
            // RFC 959 §4.2: a 1yz reply announces another; for a transfer command the data flows now.
            if (p != null) {
                pending = new Pending(p.expect(), true);
            }
            toClient(lines);
            return;
        }
        if (p == null) {
            // Unsolicited (RFC 959 §4.2: 421 may come at any time before the server closes).
            toClient(lines);
            return;
        }
        switch (p.expect()) {
            case PASV -> passive(reply, lines, reply.code() == 227 ? FtpReplies.pasvPort(reply) : OptionalInt.empty());
            case EPSV -> passive(reply, lines, reply.code() == 229 ? FtpReplies.epsvPort(reply) : OptionalInt.empty());
            case FEAT -> {
                // RFC 2389 §3.2 / RFC 4217 §6: the features as the client sees them over TLS.
                toClient(reply.code() == 211 ? FtpReplies.featReply(reply) : lines);
                done();
            }
            default -> {
                if (p.preliminary() && data.busy()) {
                    // The transfer's final reply (226, 426…) goes out once the client's data connection has
                    // ended: the data and its close_notify first (RFC 4217 §10 truncation detection).
                    backendPaused = true;
                    data.whenIdle(() -> {
                        backendPaused = false;
                        toClient(data.takeRefusal().map(List::of).orElse(lines));
                        done();
                        processBackend();
                    });
                    return;
                }
                Optional<String> refusal = p.preliminary() ? data.takeRefusal() : Optional.empty();
                toClient(refusal.map(List::of).orElse(lines));
                done();
            }
        }
    }

    private void passive(FtpReply reply, List<String> lines, OptionalInt backendPort) {
        if (backendPort.isEmpty()) {
            if (reply.code() == 227 || reply.code() == 229) {
                refused(Reasons.FTP_DATA_BACKEND, "the backend's passive reply names no port: " + reply.summary());
                local("425 Cannot open data connection: the server's passive reply was not understood");
            } else {
                toClient(lines);
            }
            done();
            return;
        }
        backendPaused = true;
        boolean extended = reply.code() == 229;
        data.open(backendPort.getAsInt(), port -> {
            backendPaused = false;
            if (port.isEmpty()) {
                local("425 Cannot open data connection: the gateway could not open a data port");
            } else if (extended) {
                local(FtpReplies.epsvReply(port.getAsInt()));
            } else {
                InetSocketAddress at = (InetSocketAddress) client.localAddress();
                Optional<String> pasv = FtpReplies.pasvReply(at.getAddress(), port.getAsInt());
                if (pasv.isEmpty()) {
                    data.close();
                }
                // RFC 2428 §3: PASV cannot name an IPv6 address; EPSV can.
                local(pasv.orElse("425 PASV cannot name this IPv6 address: use EPSV"));
            }
            done();
            processBackend();
        });
    }

    private void done() {
        pending = null;
        processClient();
    }

    private void toClient(List<String> lines) {
        if (closed) {
            return;
        }
        StringBuilder b = new StringBuilder();
        for (String l : lines) {
            b.append(l).append("\r\n");
        }
        ByteBuf out = Unpooled.copiedBuffer(b, StandardCharsets.ISO_8859_1);
        toClient.relayed(out.readableBytes());
        lastWrite = client.writeAndFlush(out);
    }

    private void backendFailed(String detail) {
        refused(Reasons.FTP_BACKEND_REPLY, detail);
        // RFC 959 §4.2: 421 "closing control connection".
        toClient(List.of("421 The server sent an invalid reply, closing control connection"));
        closeAll();
    }

    private void closeAll() {
        if (closed) {
            return;
        }
        closed = true;
        if (data != null) {
            data.close();
        }
        Relay.closeOnFlush(client);
        if (backend != null) {
            Relay.closeOnFlush(backend);
        }
    }

    /** The control connection's TLS engine (its session is what data connections must resume). */
    SSLEngine controlEngine() {
        SslHandler tls = client.pipeline().get(SslHandler.class);
        return tls == null ? null : tls.engine();
    }

    private void released() {
        clientIn.release();
        backendIn.release();
    }

    /** Reads the client's commands: only when the previous one is answered (see {@link #processClient}). */
    private final class ClientSide extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                if (!closed) {
                    clientIn.writeBytes(in);
                }
            } finally {
                in.release();
            }
            processClient();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closeAll();
            ctx.fireChannelInactive();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            released();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeAll();
        }
    }

    /** Reads the backend's replies. */
    private final class BackendSide extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                if (!closed) {
                    backendIn.writeBytes(in);
                }
            } finally {
                in.release();
            }
            processBackend();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            // The backend closed (after 221, or 421): what it said before goes out first.
            closeAll();
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeAll();
        }
    }
}
