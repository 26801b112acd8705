package org.ievirsh.e2e;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * FreezableProxy forwards a unix socket to libvirtd's, and can stop
 * answering while keeping every connection open: a libvirtd that hangs.
 */
final class FreezableProxy implements AutoCloseable {
    private final ServerSocketChannel server;
    private final Path upstream;
    private volatile boolean frozen;
    private volatile boolean closed;

    FreezableProxy(Path listen, Path upstream) throws IOException {
        this.upstream = upstream;
        Files.deleteIfExists(listen);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(listen));
        Thread accept = new Thread(this::accept, "proxy-accept");
        accept.setDaemon(true);
        accept.start();
    }

    void freeze(boolean yes) {
        frozen = yes;
    }

    private void accept() {
        while (!closed) {
            try {
                SocketChannel client = server.accept();
                SocketChannel up = SocketChannel.open(UnixDomainSocketAddress.of(upstream));
                pump(client, up);
                pump(up, client);
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private void pump(SocketChannel from, SocketChannel to) {
        Thread t = new Thread(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            try (from; to) {
                while (from.read(buffer) >= 0) {
                    while (frozen && !closed) {
                        Thread.sleep(20);
                    }
                    buffer.flip();
                    while (buffer.hasRemaining()) {
                        to.write(buffer);
                    }
                    buffer.clear();
                }
            } catch (IOException | InterruptedException e) {
                // The other side went away: both sockets close.
            }
        }, "proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        frozen = false;
        server.close();
    }
}
