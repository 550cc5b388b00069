package dev.optls.netty;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The socket transport: epoll on Linux where the native library loads, NIO otherwise.
 *
 * @param name {@code epoll} or {@code nio}, for logs
 * @param ioHandler the event loops' I/O handler
 * @param serverChannel the listening channel class
 * @param channel the connecting channel class
 */
public record Transport(
        String name,
        IoHandlerFactory ioHandler,
        Class<? extends ServerChannel> serverChannel,
        Class<? extends SocketChannel> channel) {

    /** Epoll where available, NIO otherwise. */
    public static Transport best() {
        return Epoll.isAvailable() ? epoll() : nio();
    }

    /** Java NIO: works everywhere. */
    public static Transport nio() {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }

    /** Linux epoll (netty-transport-native-epoll). */
    public static Transport epoll() {
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("the epoll transport does not load here: " + Epoll.unavailabilityCause());
        }
        return new Transport(
                "epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class);
    }

    /** An event loop group of {@code threads} loops (0: Netty's default, twice the cores). */
    public MultiThreadIoEventLoopGroup group(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, ioHandler);
    }
}
