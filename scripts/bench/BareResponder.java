// A bare Netty SMTP STARTTLS responder: the ceiling the gateway's figures are read against (issue 4, "Performance").
//
// The same dialogue the gateway's route gives the load generator, with no backend behind it: greeting, EHLO with
// STARTTLS, the upgrade (SslHandler added before the go-ahead is written), EHLO again, MAIL, RCPT, DATA (the message
// read and dropped until the final dot, RFC 5321 §4.1.1.4), QUIT. Same engine set-up as the gateway's BoringSSL
// engines: netty-tcnative, the handshake inline on the event loop (USE_TASKS false), one epoll event loop, pooled
// buffers and reads of up to 256 KiB. Whatever the gateway costs above this per session is the backend connection,
// the relay and the gateway's own checks; whatever this costs is Netty and BoringSSL.
//
// Not part of the build: scripts/bench-gateway-vs-stunnel.sh runs it as a single-file program against the
// optls jar (which holds Netty and netty-tcnative):
//   java -cp optls-cli/target/optls.jar scripts/bench/BareResponder.java PORT CERT.pem KEY.pem
// Listens on 127.0.0.1 only. Bounded: a command line longer than 512 bytes closes the connection.

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.File;
import java.nio.charset.StandardCharsets;

public final class BareResponder {

    private static final int MAX_LINE = 512;
    private static final long END_OF_DATA = 0x0d0a2e0d0aL; // CRLF "." CRLF

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: BareResponder PORT CERT.pem KEY.pem");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        SslContext tls = SslContextBuilder.forServer(new File(args[1]), new File(args[2]))
                .sslProvider(SslProvider.OPENSSL)
                .protocols("TLSv1.3", "TLSv1.2")
                .option(OpenSslContextOption.USE_TASKS, false)
                .build();
        var group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        new ServerBootstrap()
                .group(group)
                .channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childOption(ChannelOption.RECVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(64, 2048, 256 * 1024))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new Smtp(tls));
                    }
                })
                .bind("127.0.0.1", port)
                .sync();
        System.err.println("bare responder on 127.0.0.1:" + port);
        Thread.currentThread().join();
    }

    /** The dialogue: commands a line at a time, DATA read and dropped. */
    private static final class Smtp extends ChannelInboundHandlerAdapter {
        private final SslContext tls;
        private final StringBuilder line = new StringBuilder();
        private boolean upgraded;
        private boolean inData;
        private long tail; // the message's last five bytes

        Smtp(SslContext tls) {
            this.tls = tls;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            reply(ctx, "220 bare.localhost ESMTP\r\n");
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                if (inData) {
                    // Like scripts/bench/smtp-backend.py: only the stream's last five bytes are looked at, since
                    // the load generator sends nothing after the final dot until it has the reply.
                    for (int i = Math.max(in.readerIndex(), in.writerIndex() - 5); i < in.writerIndex(); i++) {
                        tail = ((tail << 8) | (in.getByte(i) & 0xff)) & 0xff_ffff_ffffL;
                    }
                    if (tail == END_OF_DATA) {
                        inData = false;
                        reply(ctx, "250 2.0.0 accepted\r\n");
                    }
                    return;
                }
                while (in.isReadable()) {
                    byte b = in.readByte();
                    if (b != '\n') {
                        if (line.length() >= MAX_LINE) {
                            ctx.close();
                            return;
                        }
                        line.append((char) b);
                        continue;
                    }
                    String command = line.toString().trim();
                    line.setLength(0);
                    if (command(ctx, command) && in.isReadable()) {
                        ctx.close(); // plaintext after STARTTLS is never decoded (RFC 3207 §4.2)
                        return;
                    }
                    if (inData) {
                        return; // the generator waits for 354 before it sends the message
                    }
                }
            } finally {
                in.release();
            }
        }

        /** Answers one command; true if it was STARTTLS and TLS is now expected. */
        private boolean command(ChannelHandlerContext ctx, String command) {
            String verb = command.length() >= 4 ? command.substring(0, 4).toUpperCase() : command.toUpperCase();
            switch (verb) {
                case "EHLO" -> reply(ctx, upgraded ? "250-bare.localhost\r\n250 8BITMIME\r\n" : "250-bare.localhost\r\n250 STARTTLS\r\n");
                case "STAR" -> {
                    if (upgraded) {
                        reply(ctx, "503 5.5.1 already upgraded\r\n");
                        return false;
                    }
                    upgraded = true;
                    // Before the go-ahead is written; startTls: that reply still leaves in plaintext.
                    ctx.pipeline().addFirst(new SslHandler(tls.newEngine(ctx.alloc()), true));
                    reply(ctx, "220 2.0.0 go ahead\r\n");
                    return true;
                }
                case "DATA" -> {
                    inData = true;
                    tail = 0x0d0a; // an empty message is ".\r\n" right after DATA's CRLF
                    reply(ctx, "354 go ahead\r\n");
                }
                case "QUIT" -> ctx.writeAndFlush(bytes("221 2.0.0 bye\r\n")).addListener(ChannelFutureListener.CLOSE);
                default -> reply(ctx, "250 2.0.0 ok\r\n");
            }
            return false;
        }

        private static void reply(ChannelHandlerContext ctx, String text) {
            ctx.writeAndFlush(bytes(text));
        }

        private static ByteBuf bytes(String text) {
            return Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
