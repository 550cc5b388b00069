package dev.optls.gateway.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.optls.netty.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ProxyProtocolTest {
    private static EventLoopGroup group;
    private Channel server;
    private final List<String> failures = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void loop() {
        group = Transport.nio().group(1);
    }

    @AfterAll
    static void stopLoop() {
        group.shutdownGracefully().syncUninterruptibly();
    }

    /** A server that expects a PROXY header, then answers "client=<address>" and echoes. */
    @BeforeEach
    void start() {
        server = new ServerBootstrap()
                .group(group)
                .channel(Transport.nio().serverChannel())
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ProxyProtocol.expectHeader(
                                ch.pipeline(),
                                500,
                                (ctx, client) -> ctx.pipeline()
                                        .addLast(new Echo("client="
                                                + client.map(String::valueOf).orElse("local"))),
                                failures::add);
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0))
                .syncUninterruptibly()
                .channel();
    }

    @AfterEach
    void stop() {
        server.close().syncUninterruptibly();
    }

    private static final class Echo extends ChannelInboundHandlerAdapter {
        private final String hello;

        Echo(String hello) {
            this.hello = hello;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.copiedBuffer(hello + "\n", StandardCharsets.US_ASCII));
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
            ctx.read();
        }
    }

    private String exchange(byte[] first) throws Exception {
        try (Socket s =
                new Socket(InetAddress.getLoopbackAddress(), ((InetSocketAddress) server.localAddress()).getPort())) {
            s.setSoTimeout(3000);
            OutputStream out = s.getOutputStream();
            out.write(first);
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @Test
    void version1HeaderGivesTheRealClientAndTheRestPassesThrough() throws Exception {
        String seen =
                exchange("PROXY TCP4 127.0.0.9 127.0.0.1 40001 25\r\nEHLO x\r\n".getBytes(StandardCharsets.US_ASCII));

        assertThat(seen).isEqualTo("client=/127.0.0.9:40001\nEHLO x\r\n");
        assertThat(failures).isEmpty();
    }

    @Test
    void version2HeaderAsWrittenForBackends() throws Exception {
        EmbeddedChannel encoder = new EmbeddedChannel(HAProxyMessageEncoder.INSTANCE);
        encoder.writeOutbound(ProxyProtocol.header(
                ProxyProtocol.Version.V2, new InetSocketAddress("::1", 40002), new InetSocketAddress("::1", 143)));
        ByteBuf header = encoder.readOutbound();
        byte[] bytes = new byte[header.readableBytes() + 4];
        header.readBytes(bytes, 0, header.readableBytes());
        header.release();
        System.arraycopy("a1\r\n".getBytes(StandardCharsets.US_ASCII), 0, bytes, bytes.length - 4, 4);

        String seen = exchange(bytes);

        assertThat(seen).isEqualTo("client=/[0:0:0:0:0:0:0:1]:40002\na1\r\n");
    }

    @Test
    void aClientWithoutHeaderIsClosedWithAReason() throws Exception {
        String seen = exchange("EHLO attacker\r\n".getBytes(StandardCharsets.US_ASCII));

        assertThat(seen).isEmpty();
        // Netty's decoder closes the channel before it reports the bad header: the reason may come a bit later.
        awaitFailure();
        assertThat(failures).singleElement().satisfies(f -> assertThat(f).contains("PROXY protocol header"));
    }

    private void awaitFailure() throws InterruptedException {
        for (int i = 0; i < 100 && failures.isEmpty(); i++) {
            Thread.sleep(20);
        }
    }

    @Test
    void aSilentClientTimesOut() throws Exception {
        try (Socket s =
                new Socket(InetAddress.getLoopbackAddress(), ((InetSocketAddress) server.localAddress()).getPort())) {
            s.setSoTimeout(3000);
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        awaitFailure();
        assertThat(failures)
                .singleElement()
                .satisfies(f -> assertThat(f).contains("no PROXY protocol header within 500 ms"));
    }
}
